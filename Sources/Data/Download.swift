// Fetching the official dataset archives (only when asked: `--download`), checking them
// against their published MD5s, and unpacking them with libarchive.
//
// Steps, each resumable by simply running again: extracted folder present -> done; archive
// present with the right MD5 -> extract; otherwise download to "<name>.partial", verify, rename,
// extract into a temporary folder and move the dataset folder into place, so a half-finished
// run never leaves a folder that looks complete. Offline, the first step that needs the network
// fails quickly with a message saying where to put the files by hand.
import CArchive
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An official dataset archive: where it lives, its checksum and what it unpacks to.
public struct DatasetArchive: Sendable, Equatable {
    /// Dataset name ("cifar10").
    public var dataset: String
    /// Official download location.
    public var url: URL
    /// Archive file name in the data folder.
    public var fileName: String
    /// Published MD5 of the archive (hex).
    public var md5: String
    /// Top-level folder inside the archive.
    public var extractedFolder: String
    /// A file whose presence directly in the data folder means the data is already unpacked there.
    public var markerFile: String

    public init(dataset: String, url: URL, fileName: String, md5: String, extractedFolder: String, markerFile: String) {
        self.dataset = dataset
        self.url = url
        self.fileName = fileName
        self.md5 = md5
        self.extractedFolder = extractedFolder
        self.markerFile = markerFile
    }

    /// CIFAR-10, binary version (https://www.cs.toronto.edu/~kriz/cifar.html), 170,052,171 bytes.
    public static let cifar10 = DatasetArchive(
        dataset: "cifar10", url: URL(string: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")!,
        fileName: "cifar-10-binary.tar.gz", md5: "c32a1d4ab5d03f1284b67883e8d87530",
        extractedFolder: "cifar-10-batches-bin", markerFile: "data_batch_1.bin")
    /// CIFAR-100, binary version, 168,513,733 bytes.
    public static let cifar100 = DatasetArchive(
        dataset: "cifar100", url: URL(string: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz")!,
        fileName: "cifar-100-binary.tar.gz", md5: "03b5dce01913d631647c71ecec9e9cb8",
        extractedFolder: "cifar-100-binary", markerFile: "train.bin")
    /// STL-10, binary version (https://cs.stanford.edu/~acoates/stl10/), about 2.6 GB.
    public static let stl10 = DatasetArchive(
        dataset: "stl10", url: URL(string: "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz")!,
        fileName: "stl10_binary.tar.gz", md5: "91f7769df0f17e558f3565bffb0c7dfb",
        extractedFolder: "stl10_binary", markerFile: "train_X.bin")

    /// The archive of a downloadable dataset, nil for `folder` and `synthetic`.
    public static func forDataset(_ name: DatasetSpec.Name) -> DatasetArchive? {
        switch name {
        case .cifar10: return .cifar10
        case .cifar100: return .cifar100
        case .stl10: return .stl10
        case .folder, .synthetic: return nil
        }
    }
}

/// A failed download, checksum or extraction, naming the URL or file and what to do.
public enum DownloadError: LocalizedError, Equatable, Sendable {
    case fetchFailed(url: String, reason: String, manualHint: String)
    case checksumMismatch(path: String, expected: String, actual: String)
    case extractionFailed(path: String, reason: String)
    case unsafeEntry(archive: String, entry: String)
    case missingFolder(archive: String, folder: String)

    public var errorDescription: String? {
        switch self {
        case .fetchFailed(let url, let reason, let hint):
            return "download of \(url) failed (\(reason)). \(hint)"
        case .checksumMismatch(let path, let expected, let actual):
            return "\(path): MD5 \(actual) does not match the published \(expected); the file is damaged or not the official archive (it was removed; run again to re-download)"
        case .extractionFailed(let path, let reason):
            return "\(path): cannot be extracted (\(reason)); expected a .tar.gz archive"
        case .unsafeEntry(let archive, let entry):
            return "\(archive): entry '\(entry)' would be written outside the target folder; refusing to extract"
        case .missingFolder(let archive, let folder):
            return "\(archive): the archive has no top-level folder '\(folder)'; expected the official archive"
        }
    }
}

/// Download, verification and extraction of dataset archives.
public enum DatasetDownloader {
    /// Makes sure `archive` is unpacked in `directory`, downloading and verifying it if needed.
    ///
    /// - Parameters:
    ///   - source: where to fetch from (default: the official URL; a `file://` URL copies a local file).
    ///   - timeout: seconds without network progress before giving up.
    /// - Returns: the extracted dataset folder.
    @discardableResult
    public static func ensure(_ archive: DatasetArchive, in directory: URL, source: URL? = nil,
                              showProgress: Bool = true, timeout: Double = 20) throws -> URL {
        let fm = FileManager.default
        let folder = directory.appendingPathComponent(archive.extractedFolder)
        if fm.fileExists(atPath: folder.path) { return folder }
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.unreadable(path: directory.path, reason: "cannot create the data folder: \(error.localizedDescription)")
        }
        let archivePath = directory.appendingPathComponent(archive.fileName)
        if fm.fileExists(atPath: archivePath.path) {
            // A previous run downloaded it: reuse it if it is intact.
            if (try? verify(archivePath, md5: archive.md5, showProgress: showProgress)) == nil {
                try? fm.removeItem(at: archivePath)
            }
        }
        if !fm.fileExists(atPath: archivePath.path) {
            let partial = directory.appendingPathComponent(archive.fileName + ".partial")
            let from = source ?? archive.url
            let hint = "Without internet access, download \(archive.url.absoluteString) yourself (MD5 \(archive.md5)) and put it at "
                + "\(archivePath.path), or put its extracted folder at \(folder.path)."
            try fetch(from, to: partial, label: "download \(archive.fileName)", showProgress: showProgress, timeout: timeout, hint: hint)
            do {
                try verify(partial, md5: archive.md5, showProgress: showProgress)
            } catch {
                try? fm.removeItem(at: partial)
                throw error
            }
            try? fm.removeItem(at: archivePath)
            try fm.moveItem(at: partial, to: archivePath)
        }
        // Unpack next to the final place, then move the dataset folder in.
        let staging = directory.appendingPathComponent(".extract-\(archive.dataset)-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: staging) }
        try extractTarGz(archivePath, into: staging, showProgress: showProgress)
        let unpacked = staging.appendingPathComponent(archive.extractedFolder)
        guard fm.fileExists(atPath: unpacked.path) else {
            throw DownloadError.missingFolder(archive: archivePath.path, folder: archive.extractedFolder)
        }
        try fm.moveItem(at: unpacked, to: folder)
        return folder
    }

    /// Checks a file's MD5 against `md5` (hex, any case); on mismatch the error gives both.
    public static func verify(_ file: URL, md5: String, showProgress: Bool = false) throws {
        let size = ((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? NSNumber)?.intValue
        let bar = showProgress ? ProgressBar(label: "md5 \(file.lastPathComponent)", total: size, unit: "B") : nil
        let actual = try MD5.hex(ofFile: file) { bar?.update($0) }
        bar?.finish()
        guard actual == md5.lowercased() else {
            throw DownloadError.checksumMismatch(path: file.path, expected: md5.lowercased(), actual: actual)
        }
    }

    /// Downloads (or, for `file://`, copies) `url` to `destination`, replacing it.
    public static func fetch(_ url: URL, to destination: URL, label: String = "download", showProgress: Bool = true,
                             timeout: Double = 20, hint: String = "") throws {
        let fm = FileManager.default
        try? fm.removeItem(at: destination)
        guard fm.createFile(atPath: destination.path, contents: nil), let out = FileHandle(forWritingAtPath: destination.path) else {
            throw DatasetError.unreadable(path: destination.path, reason: "cannot create the download file")
        }
        defer { try? out.close() }
        if url.isFileURL {
            guard let input = FileHandle(forReadingAtPath: url.path) else {
                throw DownloadError.fetchFailed(url: url.absoluteString, reason: "no readable file there", manualHint: hint)
            }
            defer { try? input.close() }
            let size = ((try? fm.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue
            let bar = showProgress ? ProgressBar(label: label, total: size, unit: "B") : nil
            var done = 0
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                try out.write(contentsOf: chunk)
                done += chunk.count
                bar?.update(done)
            }
            bar?.finish()
            return
        }
        let delegate = StreamingDelegate(output: out, label: label, showProgress: showProgress)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = 24 * 3600
        let session = URLSession(configuration: config, delegate: delegate, delegateQueue: nil)
        let task = session.dataTask(with: url)
        task.resume()
        delegate.done.wait()
        session.finishTasksAndInvalidate()
        delegate.bar?.finish()
        if let error = delegate.failure {
            try? fm.removeItem(at: destination)
            throw DownloadError.fetchFailed(url: url.absoluteString, reason: error, manualHint: hint)
        }
    }

    /// Unpacks a .tar.gz (or any archive libarchive reads) into `directory`, refusing entries
    /// with absolute paths or ".." that would land outside it. Returns the entry paths.
    @discardableResult
    public static func extractTarGz(_ archiveURL: URL, into directory: URL, showProgress: Bool = false) throws -> [String] {
        let fm = FileManager.default
        guard fm.fileExists(atPath: archiveURL.path) else {
            throw DatasetError.missingFile(path: archiveURL.path, expected: "a .tar.gz archive")
        }
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        guard let reader = archive_read_new(), let writer = archive_write_disk_new() else {
            throw DownloadError.extractionFailed(path: archiveURL.path, reason: "libarchive could not allocate a reader")
        }
        defer {
            archive_read_free(reader)
            archive_write_free(writer)
        }
        archive_read_support_filter_all(reader)
        archive_read_support_format_all(reader)
        // Entry names are checked below (no absolute paths, no ".."), then rewritten to absolute
        // paths under `directory`, so libarchive's NOABSOLUTEPATHS guard cannot be used; the
        // symlink guard still stops writes through links planted by earlier entries.
        let flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS
        archive_write_disk_set_options(writer, flags)
        func reason(_ a: OpaquePointer) -> String {
            archive_error_string(a).map { String(cString: $0) } ?? "libarchive gave no reason"
        }
        guard archive_read_open_filename(reader, archiveURL.path, 1 << 16) == ARCHIVE_OK else {
            throw DownloadError.extractionFailed(path: archiveURL.path, reason: reason(reader))
        }
        let size = ((try? fm.attributesOfItem(atPath: archiveURL.path))?[.size] as? NSNumber)?.intValue
        let bar = showProgress ? ProgressBar(label: "extract \(archiveURL.lastPathComponent)", total: size, unit: "B") : nil
        var names: [String] = []
        var entry: OpaquePointer? = nil
        while true {
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw DownloadError.extractionFailed(path: archiveURL.path, reason: reason(reader))
            }
            let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            let components = name.split(separator: "/")
            if name.hasPrefix("/") || components.contains("..") || name.isEmpty {
                throw DownloadError.unsafeEntry(archive: archiveURL.path, entry: name)
            }
            archive_entry_set_pathname(entry, directory.appendingPathComponent(name).path)
            let extracted = archive_read_extract2(reader, entry, writer)
            guard extracted == ARCHIVE_OK || extracted == ARCHIVE_WARN else {
                throw DownloadError.extractionFailed(path: archiveURL.path, reason: "entry \(name): \(reason(reader))")
            }
            names.append(name)
            bar?.update(Int(archive_filter_bytes(reader, -1)))
        }
        bar?.finish()
        return names
    }
}

/// Streams a URLSession response body to a file, with a progress bar.
private final class StreamingDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let output: FileHandle
    let label: String
    let showProgress: Bool
    let done = DispatchSemaphore(value: 0)
    var bar: ProgressBar?
    var received = 0
    var failure: String?

    init(output: FileHandle, label: String, showProgress: Bool) {
        self.output = output
        self.label = label
        self.showProgress = showProgress
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            failure = "HTTP status \(http.statusCode)"
            completionHandler(.cancel)
            return
        }
        if showProgress {
            let expected = response.expectedContentLength
            bar = ProgressBar(label: label, total: expected > 0 ? Int(expected) : nil, unit: "B")
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        do {
            try output.write(contentsOf: data)
            received += data.count
            bar?.update(received)
        } catch {
            failure = "cannot write the download: \(error.localizedDescription)"
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error, failure == nil { failure = error.localizedDescription }
        done.signal()
    }
}
