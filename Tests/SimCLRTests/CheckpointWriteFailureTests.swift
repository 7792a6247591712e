// A checkpoint that cannot be written (disk full, a failing rename or pointer write): the
// previous checkpoint stays the last, nothing partial is left or taken for a checkpoint, the
// error names the file, the bytes it needs and the free bytes, the run stops cleanly
// (summary.json says why), and running again resumes to the same bits. Failures are injected at
// the `atomic-write` / `atomic-rename` fault points; where the test may mount one, a tiny tmpfs
// makes the disk really full. (The file-size limit is tested on the `simclr` binary.)
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class CheckpointWriteFailureTests: XCTestCase {
    override func tearDown() { FaultInjection.shared.arm([]) }

    /// Runs `c` in `dir`, arming `plan` right after step 4 (after epoch 1's checkpoint); the error.
    private func runFailing(_ c: TrainConfig, _ dir: URL, _ plan: FaultPlan?) -> Error? {
        let t = MidEpochCheckpointTests.quiet(c, dir)
        t.afterStep = { step in if step == 4, let plan { FaultInjection.shared.arm([plan]) } }
        defer { FaultInjection.shared.arm([]) }
        do {
            try t.run()
            return nil
        } catch {
            return error
        }
    }

    /// Checks the state a failed epoch-2 checkpoint must leave; returns the error's fields.
    @discardableResult
    private func assertEpochOneKept(_ error: Error?, _ dir: URL, reason: String, file: StaticString = #filePath, line: UInt = #line)
        throws -> (bytes: Int, free: Int?)
    {
        let run = RunFolder(dir)
        guard case let CheckpointError.writeFailed(path, bytes, free, why, previous)? = error as? CheckpointError else {
            XCTFail("expected a checkpoint write failure, got \(String(describing: error))", file: file, line: line)
            return (0, nil)
        }
        XCTAssertTrue(why.contains(reason), why, file: file, line: line)
        XCTAssertEqual(previous, run.checkpoints.appendingPathComponent(Checkpoint.fileName(epoch: 1)).path, file: file, line: line)
        let m = error!.localizedDescription
        XCTAssertTrue(m.contains(path) && m.contains("needs") && m.contains("previous checkpoint is kept"), m, file: file, line: line)
        let names = try FileManager.default.contentsOfDirectory(atPath: run.checkpoints.path).sorted()
        XCTAssertEqual(names, [Checkpoint.fileName(epoch: 1), Checkpoint.pointerName], "no partial or temporary file", file: file, line: line)
        XCTAssertEqual(run.latestCheckpoint?.lastPathComponent, Checkpoint.fileName(epoch: 1), file: file, line: line)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.summary)) as? [String: Any])
        XCTAssertEqual(json["stopped_by"] as? String, "checkpoint write failed", file: file, line: line)
        XCTAssertEqual(json["completed"] as? Bool, false, file: file, line: line)
        return (bytes, free)
    }

    func testAFullDiskInTheMiddleOfACheckpointKeepsThePreviousOneAndResumes() throws {
        let a = try makeTemporaryDirectory(), b = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let c = MidEpochCheckpointTests.config(epochs: 2, checkpointSteps: 0)
        XCTAssertNil(runFailing(c, a, nil))
        let final = RunFolder(a).checkpoints.appendingPathComponent(Checkpoint.fileName(epoch: 2))

        // The 5th piece of epoch 2's checkpoint fails with ENOSPC.
        let error = runFailing(c, b, FaultPlan(point: .atomicWrite, pass: 5, action: .fail(errno: ENOSPC)))
        let (bytes, free) = try assertEpochOneKept(error, b, reason: "No space left on device")
        XCTAssertEqual(bytes, try FileManager.default.attributesOfItem(atPath: final.path)[.size] as? Int, "the size it needs, exactly")
        XCTAssertNotNil(free)

        // Running again resumes from epoch 1 and ends with the uninterrupted run's bits.
        let resumed = try MidEpochCheckpointTests.quiet(c, b).run()
        XCTAssertEqual(resumed.startStep, 4)
        XCTAssertEqual(try Data(contentsOf: final), try Data(contentsOf: RunFolder(b).checkpoints.appendingPathComponent(Checkpoint.fileName(epoch: 2))))
    }

    func testAFailingRenameOrPointerWriteKeepsThePreviousOne() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = MidEpochCheckpointTests.config(epochs: 2, checkpointSteps: 0)
        // Rename 1 after step 4 is epoch 2's checkpoint file, rename 2 its `last` pointer.
        for (pass, errno, reason) in [(1, EIO, "Input/output error"), (2, ENOSPC, "No space left on device")] {
            let run = dir.appendingPathComponent("rename\(pass)")
            let error = runFailing(c, run, FaultPlan(point: .atomicRename, pass: pass, action: .fail(errno: errno)))
            try assertEpochOneKept(error, run, reason: reason)
        }
    }

    func testATmpfsTooSmallForTwoCheckpoints() throws {
        let c = MidEpochCheckpointTests.config(epochs: 2, checkpointSteps: 0)
        let probe = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: probe) }
        var one = c
        one.optimization.epochs = 1
        try MidEpochCheckpointTests.quiet(one, probe).run()
        let first = RunFolder(probe).checkpoints.appendingPathComponent(Checkpoint.fileName(epoch: 1))
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: first.path)[.size] as? Int)
        let mountPoint = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        let kib = (size * 3 / 2 + (256 << 10)) >> 10  // one checkpoint, the logs, not two checkpoints
        let mount = try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kib)k", "tmpfs", mountPoint.path])
        guard mount.status == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (\(mount.output.trimmingCharacters(in: .whitespacesAndNewlines))); "
                          + "the injected ENOSPC test covers the same path")
        }
        defer { _ = try? Self.run("/bin/umount", [mountPoint.path]) }
        let dir = mountPoint.appendingPathComponent("run")
        let error = runFailing(c, dir, nil)
        let (bytes, free) = try assertEpochOneKept(error, dir, reason: "No space left on device")
        XCTAssertLessThan(abs(bytes - size), 64, "about one checkpoint's size")
        XCTAssertLessThan(try XCTUnwrap(free), bytes, "the message reports the free bytes, fewer than needed")
    }

    /// Runs a tool; its status and combined output.
    static func run(_ tool: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
