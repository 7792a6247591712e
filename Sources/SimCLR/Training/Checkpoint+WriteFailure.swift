// When a checkpoint cannot be written (disk full, read-only folder, file-size limit): the error
// names the file, the system's reason, the bytes the file needs and the bytes free on its file
// system, and the previous checkpoint, which stays the last one (`AtomicFile` removes the
// partial temporary file; `last` is replaced only after a complete checkpoint).
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Checkpoint {
    /// `CheckpointError.writeFailed` for a failed write of `url` (`bytes` long).
    static func writeFailure(_ error: AtomicFileError, url: URL, bytes: Int) -> CheckpointError {
        let directory = url.deletingLastPathComponent()
        var reason = error.reason
        if let limit = fileSizeLimit(), limit < bytes + 4096 {
            reason += " (the file-size limit, ulimit -f, is \(ByteCount(limit)))"
        }
        return .writeFailed(path: url.path, bytes: bytes, freeBytes: freeBytes(in: directory), reason: reason,
                            previous: latest(in: directory)?.path)
    }

    /// Bytes available to unprivileged writers on the file system of `directory`.
    static func freeBytes(in directory: URL) -> Int? {
        var s = statvfs()
        guard statvfs(directory.path, &s) == 0 else { return nil }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }

    /// RLIMIT_FSIZE in bytes, nil when unlimited.
    static func fileSizeLimit() -> Int? {
        var r = rlimit()
        #if canImport(Glibc)
            guard getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &r) == 0 else { return nil }
        #else
            guard getrlimit(RLIMIT_FSIZE, &r) == 0 else { return nil }
        #endif
        return r.rlim_cur == rlim_t.max ? nil : Int(clamping: r.rlim_cur)  // RLIM_INFINITY
    }
}
