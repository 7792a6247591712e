// Errors for dataset files and folders, and read-only memory mapping of dataset files.
// Every error names the path and says what was expected, so a user can fix the data without
// reading the code. Nothing in the dataset readers exits or traps on bad data.
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with dataset files, folders or options.
public enum DatasetError: LocalizedError, Equatable, Sendable {
    /// A required file or folder does not exist.
    case missingFile(path: String, expected: String)
    /// A file exists but has a size that does not fit its format.
    case wrongSize(path: String, actual: Int, expected: String)
    /// A label byte outside the dataset's label range.
    case labelOutOfRange(path: String, record: Int, label: Int, expected: String)
    /// A file or folder that exists but cannot be read (permissions, I/O error).
    case unreadable(path: String, reason: String)
    /// A folder with nothing in it.
    case emptyFolder(path: String)
    /// A folder with files or sub-folders but no PNG/JPEG images.
    case noImages(path: String)
    /// An image that failed to decode, with `--on-bad-image fail`.
    case badImage(path: String, reason: String)
    /// A malformed text file (class names, cache header).
    case malformed(path: String, expected: String)
    /// A split this dataset does not have.
    case unknownSplit(dataset: String, split: String, allowed: [String])
    /// An option value that is not allowed.
    case invalidOption(name: String, value: String, expected: String)
    /// An image folder asked for its held-out split without `--val-dir` or `--val-fraction`.
    case noHeldOutSplit(path: String)
    /// A validation folder whose class sub-folders are not those of the training folder.
    case classesDiffer(path: String, trainingFolder: String, missing: [String], extra: [String])

    public var errorDescription: String? {
        switch self {
        case .missingFile(let path, let expected):
            return "\(path): no such file or folder; expected \(expected)"
        case .wrongSize(let path, let actual, let expected):
            return "\(path): size \(actual) bytes; expected \(expected)"
        case .labelOutOfRange(let path, let record, let label, let expected):
            return "\(path): record \(record) has label \(label); expected \(expected)"
        case .unreadable(let path, let reason):
            return "\(path): cannot be read (\(reason))"
        case .emptyFolder(let path):
            return "\(path): the folder is empty; expected image files, or one sub-folder of images per class"
        case .noImages(let path):
            return "\(path): no .png/.jpg/.jpeg images found; expected image files, or one sub-folder of images per class"
        case .badImage(let path, let reason):
            return "\(path): bad image (\(reason)); use --on-bad-image skip to skip such files"
        case .malformed(let path, let expected):
            return "\(path): malformed; expected \(expected)"
        case .unknownSplit(let dataset, let split, let allowed):
            return "dataset \(dataset) has no split '\(split)'; expected one of \(allowed.joined(separator: ", "))"
        case .invalidOption(let name, let value, let expected):
            return "\(name) '\(value)' is not valid; expected \(expected)"
        case .noHeldOutSplit(let path):
            return "image folder \(path) has no held-out split, and scoring its training images would report training "
                + "accuracy; pass --val-dir DIR (a second folder with the same class sub-folders) or --val-fraction F "
                + "(a class-stratified, seeded part of the folder held out, e.g. 0.1)"
        case .classesDiffer(let path, let training, let missing, let extra):
            let parts = [missing.isEmpty ? nil : "missing \(missing.joined(separator: ", "))",
                         extra.isEmpty ? nil : "extra \(extra.joined(separator: ", "))"].compactMap { $0 }
            return "--val-dir \(path): its class sub-folders differ from those of \(training) (\(parts.joined(separator: "; "))); "
                + "expected the same class names, so that a label means the same class in both"
        }
    }
}

/// A read-only memory map of a whole file. The mapping lives as long as this object; reads
/// through `bytes` are thread-safe (the memory is never written). Pages are loaded on demand,
/// so a 2.7 GB file costs only address space until it is read.
public final class MappedFile: @unchecked Sendable {
    /// The mapped file.
    public let url: URL
    /// Its size in bytes.
    public let count: Int
    private let base: UnsafeMutableRawPointer?

    /// Maps `url`; `expected` describes the file for error messages ("CIFAR-10 batch file").
    public init(_ url: URL, expected: String) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw MappedFile.openError(url, errno: errno, expected: expected) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw DatasetError.unreadable(path: url.path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DatasetError.unreadable(path: url.path, reason: "not a regular file; expected \(expected)")
        }
        count = Int(info.st_size)
        if count == 0 {
            base = nil
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw DatasetError.unreadable(path: url.path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = p
    }

    deinit {
        if let base { munmap(base, count) }
    }

    /// The file's bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    static func openError(_ url: URL, errno code: Int32, expected: String) -> DatasetError {
        switch code {
        case ENOENT, ENOTDIR: return .missingFile(path: url.path, expected: expected)
        case EACCES, EPERM: return .unreadable(path: url.path, reason: "permission denied")
        default: return .unreadable(path: url.path, reason: String(cString: strerror(code)))
        }
    }
}

/// Class names from a text file with one name per line (blank lines ignored).
/// - Throws: `.malformed` if the count differs from `expectedCount`.
func readClassNames(_ url: URL, expectedCount: Int) throws -> [String] {
    let data: Data
    do {
        data = try Data(contentsOf: url)
    } catch {
        if !FileManager.default.fileExists(atPath: url.path) {
            throw DatasetError.missingFile(path: url.path, expected: "a text file with \(expectedCount) class names")
        }
        throw DatasetError.unreadable(path: url.path, reason: error.localizedDescription)
    }
    let names = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard names.count == expectedCount else {
        throw DatasetError.malformed(path: url.path, expected: "\(expectedCount) class names, one per line (found \(names.count))")
    }
    return names
}
