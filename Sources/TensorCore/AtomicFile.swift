// AtomicFile: replacing a file so that a crash at any instant leaves either the old or the new
// contents at its path, never a torn mix. Weights (safetensors) and checkpoints are saved with it.
//
// Protocol (POSIX): write the bytes to a fresh temporary file in the same directory (same file
// system, so the rename cannot degrade to a copy), fsync it, rename it over the target (rename(2)
// replaces the directory entry atomically), then fsync the directory so that the rename itself
// is durable. A crash before the rename leaves the old file and a stray `.<name>.tmp-*` file,
// which is harmless and never read.

import Foundation

#if canImport(Glibc)
    import Glibc
    private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Glibc.write(fd, p, n) }
    private func systemClose(_ fd: Int32) -> Int32 { Glibc.close(fd) }
#elseif canImport(Darwin)
    import Darwin
    private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Darwin.write(fd, p, n) }
    private func systemClose(_ fd: Int32) -> Int32 { Darwin.close(fd) }
#endif

/// A failure while writing a file atomically; the message names the path and the step.
public struct AtomicFileError: LocalizedError, Equatable {
    /// The file (or directory) the failing step was working on.
    public let path: String
    /// What was being done ("create temporary file", "write", "fsync", "rename to ...", ...).
    public let step: String
    /// The system's explanation (strerror), or the reason for a simulated failure.
    public let reason: String

    public var errorDescription: String? { "cannot write \(path): \(step) failed: \(reason)" }
}

/// The write end of an atomic replacement, valid only inside the `AtomicFile.write(to:_:)` closure.
public struct AtomicFileSink {
    fileprivate let fd: Int32
    fileprivate let temporaryPath: String
    fileprivate let targetPath: String

    /// Appends `bytes` to the new file (retrying short and interrupted writes).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let injected = FaultPoint.atomicWrite.pass() {
            throw AtomicFileError(path: targetPath, step: "write to \(temporaryPath)", reason: String(cString: strerror(injected)))
        }
        var done = 0
        while done < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress! + done, min(bytes.count - done, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw AtomicFileError(path: targetPath, step: "write to \(temporaryPath)", reason: AtomicFile.lastError())
            }
            done += n
        }
    }
}

/// Crash-safe replacement of whole files.
public enum AtomicFile {
    /// Writes `bytes` to `url` atomically: a temporary file in the same directory is written,
    /// fsynced and renamed over `url`, then the directory is fsynced. Readers see the old or the
    /// new contents, never a mix; after a crash, `url` holds one or the other in full.
    /// The new file gets mode 0666 minus the umask. Errors name the path.
    public static func write<Bytes: ContiguousBytes>(_ bytes: Bytes, to url: URL) throws {
        try write(to: url, beforeRename: nil) { sink in try bytes.withUnsafeBytes { try sink.write($0) } }
    }

    /// Replaces `url` atomically with the bytes that `produce` hands to the sink, in order (for
    /// large files written piece by piece without assembling them in memory). If `produce`
    /// throws, the temporary file is removed and `url` is untouched.
    public static func write(to url: URL, _ produce: (AtomicFileSink) throws -> Void) throws {
        try write(to: url, beforeRename: nil, produce)
    }

    /// `write(_:to:)` with a test hook run after the temporary file is complete and fsynced,
    /// before the rename. If the hook throws, the error propagates and the temporary file is left
    /// in place, exactly as a crash at that instant would leave it.
    static func write<Bytes: ContiguousBytes>(
        _ bytes: Bytes, to url: URL, beforeRename: (() throws -> Void)?
    ) throws {
        try write(to: url, beforeRename: beforeRename) { sink in try bytes.withUnsafeBytes { try sink.write($0) } }
    }

    static func write(
        to url: URL, beforeRename: (() throws -> Void)?, _ produce: (AtomicFileSink) throws -> Void
    ) throws {
        let target = url.standardizedFileURL
        let directory = target.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(
            ".\(target.lastPathComponent).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))")

        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            throw AtomicFileError(
                path: target.path, step: "create temporary file \(temporary.path)", reason: lastError())
        }
        var isOpen = true
        do {
            try produce(AtomicFileSink(fd: fd, temporaryPath: temporary.path, targetPath: target.path))
            guard fsync(fd) == 0 else {
                throw AtomicFileError(path: target.path, step: "fsync \(temporary.path)", reason: lastError())
            }
            isOpen = false
            guard systemClose(fd) == 0 else {
                throw AtomicFileError(path: target.path, step: "close \(temporary.path)", reason: lastError())
            }
        } catch {
            if isOpen { _ = systemClose(fd) }
            unlink(temporary.path)
            throw error
        }

        try beforeRename?()
        if let injected = FaultPoint.atomicRename.pass() {
            unlink(temporary.path)
            throw AtomicFileError(path: target.path, step: "rename \(temporary.path) over it", reason: String(cString: strerror(injected)))
        }

        guard rename(temporary.path, target.path) == 0 else {
            let reason = lastError()
            unlink(temporary.path)
            throw AtomicFileError(path: target.path, step: "rename \(temporary.path) over it", reason: reason)
        }
        try syncDirectory(directory, for: target)
    }

    /// fsync of the directory, so that the rename survives a power loss.
    private static func syncDirectory(_ directory: URL, for target: URL) throws {
        let dfd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else {
            throw AtomicFileError(path: target.path, step: "open directory \(directory.path)", reason: lastError())
        }
        defer { _ = systemClose(dfd) }
        // Some file systems cannot fsync directories (EINVAL); the rename is done either way.
        guard fsync(dfd) == 0 || errno == EINVAL else {
            throw AtomicFileError(path: target.path, step: "fsync directory \(directory.path)", reason: lastError())
        }
    }

    static func lastError() -> String { String(cString: strerror(errno)) }

    /// Deletes the temporary files in `directory` that a writer killed in mid-write left behind
    /// (`.<name>.tmp-<pid>-<random>` of a process that no longer exists). Returns their names.
    @discardableResult
    public static func removeStaleTemporaries(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(".") {
            guard let range = name.range(of: ".tmp-", options: .backwards) else { continue }
            guard let pid = name[range.upperBound...].split(separator: "-").first.flatMap({ Int32($0) }), pid > 0 else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }  // its writer may still be at work
            if unlink(directory.appendingPathComponent(name).path) == 0 { removed.append(name) }
        }
        return removed
    }
}
