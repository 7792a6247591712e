// One training process per run folder: `simclr train` holds an exclusive flock(2) on the
// folder's `.lock` file (which names its pid) for as long as it trains. A second process is
// refused, naming the folder and the pid of the one training into it. The kernel drops the lock
// when its holder exits, however it exits (SIGKILL and power cuts included), so a folder left by
// a dead run is never locked: nothing to clean up, and no stale pid to trust.
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive hold on a run folder, released by `release()`, deinit or the process's exit.
public final class RunFolderLock {
    public let url: URL
    private var fd: Int32

    /// The lock file's name inside the run folder.
    public static let fileName = ".lock"

    /// Takes the lock of the existing folder `folder`; throws `TrainingError.runFolderBusy` when
    /// another live process holds it, `RunFolderError` when the lock file cannot be opened.
    public init(_ folder: RunFolder) throws {
        url = folder.url.appendingPathComponent(Self.fileName)
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RunFolderError(path: folder.url.path, reason: "cannot open its lock file \(url.lastPathComponent) (\(String(cString: strerror(errno))))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            let owner = Self.owner(fd)
            close(fd)
            fd = -1
            if busy { throw TrainingError.runFolderBusy(path: folder.url.path, pid: owner) }
            throw RunFolderError(path: folder.url.path, reason: "cannot lock \(url.lastPathComponent) (\(reason))")
        }
        let text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// Takes the lock when `folder` is an existing directory; nil when it does not exist yet.
    public static func ifFolderExists(_ folder: RunFolder) throws -> RunFolderLock? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        return try RunFolderLock(folder)
    }

    deinit { release() }

    /// Gives the lock up (the file stays; an unlocked file means nothing).
    public func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    /// The pid written in the lock file (the holder's), if readable.
    private static func owner(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 31, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
