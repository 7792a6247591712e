// Small .tar.gz archives for the download and extraction tests, written with libarchive.
import CArchive
import Foundation

/// A test archive that could not be written, naming the file and the step that failed.
public struct TarGzWriteError: Error, LocalizedError {
    public let path: String
    public let reason: String
    public var errorDescription: String? { "\(path): cannot write the test archive (\(reason))" }
}

/// Writes a gzip-compressed tar (pax) of regular files to `url`: `path` is each entry's name,
/// taken as given (so tests can also build archives with unsafe names), `bytes` its content.
public func writeTarGz(_ files: [(path: String, bytes: [UInt8])], to url: URL) throws {
    func fail(_ reason: String) -> TarGzWriteError { TarGzWriteError(path: url.path, reason: reason) }
    guard let writer = archive_write_new() else { throw fail("libarchive could not allocate a writer") }
    defer { archive_write_free(writer) }
    archive_write_add_filter_gzip(writer)
    archive_write_set_format_pax_restricted(writer)
    guard archive_write_open_filename(writer, url.path) == ARCHIVE_OK else {
        throw fail(archive_error_string(writer).map { String(cString: $0) } ?? "cannot create the file")
    }
    for file in files {
        guard let entry = archive_entry_new() else { throw fail("libarchive could not allocate an entry") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, file.path)
        archive_entry_set_size(entry, Int64(file.bytes.count))
        archive_entry_set_filetype(entry, 0o100000)  // AE_IFREG: a regular file
        archive_entry_set_perm(entry, 0o644)
        guard archive_write_header(writer, entry) == ARCHIVE_OK else { throw fail("cannot write entry \(file.path)") }
        let written = file.bytes.withUnsafeBytes { archive_write_data(writer, $0.baseAddress, $0.count) }
        guard written == file.bytes.count else { throw fail("short write for entry \(file.path)") }
    }
    guard archive_write_close(writer) == ARCHIVE_OK else { throw fail("cannot finish the archive") }
}
