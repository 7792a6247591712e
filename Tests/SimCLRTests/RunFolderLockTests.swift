// One training process per run folder: a live holder's lock refuses a second run, naming the
// folder and the holder's pid; the lock goes with its holder.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class RunFolderLockTests: XCTestCase {
    func testASecondRunIntoALockedFolderIsRefusedNamingTheFolderAndThePid() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = RunFolder(dir.appendingPathComponent("run"))
        try folder.prepare()
        let held = try RunFolderLock(folder)
        XCTAssertEqual(try String(contentsOf: held.url, encoding: .utf8), "\(getpid())\n")
        // flock locks belong to open files: a second lock in this process conflicts like another process's.
        XCTAssertThrowsError(try RunFolderLock(folder))
        let c = MidEpochCheckpointTests.config(epochs: 1, checkpointSteps: 0)
        XCTAssertThrowsError(try MidEpochCheckpointTests.quiet(c, folder.url).run()) { error in
            XCTAssertEqual(error as? TrainingError, .runFolderBusy(path: folder.url.path, pid: getpid()))
            let m = error.localizedDescription
            XCTAssertTrue(m.contains(folder.url.path) && m.contains("pid \(getpid())"), m)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.config.path), "the refused run wrote nothing")
        held.release()
        XCTAssertTrue(try MidEpochCheckpointTests.quiet(c, folder.url).run().completed)
        XCTAssertNoThrow(try RunFolderLock(folder), "a finished run holds no lock")
    }

    func testALockIsTakenBeforeTheFolderIsReadWhenItExists() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertNil(try RunFolderLock.ifFolderExists(RunFolder(dir.appendingPathComponent("missing"))))
        let file = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        XCTAssertNil(try RunFolderLock.ifFolderExists(RunFolder(file)), "a file is not a folder to lock (the run refuses it)")
        XCTAssertNotNil(try RunFolderLock.ifFolderExists(RunFolder(dir)))
    }
}
