// `simclr train` as a process that is stopped, doubly interrupted, limited and contended for:
// SIGTERM from outside stops it cleanly with status 143 and a checkpoint of the step it reached;
// a second SIGINT while it writes that checkpoint exits at once with 130, leaving the previous
// checkpoint the last and loadable; a file-size limit below a checkpoint's size is reported
// with the size needed; a second run into a folder a live process trains into is refused.
import Foundation
@testable import SimCLR
@testable import SimCLRCLI
import TestSupport
import XCTest

final class InterruptionCommandTests: XCTestCase {
    /// The tiny run with one compute thread (fast on a busy machine).
    static let flags: [String] = {
        var f = ["train"] + TrainCommandTests.tinyTrainFlags
        f[f.firstIndex(of: "--threads")! + 1] = "1"
        return f
    }()

    func testSIGTERMFromOutsideStopsCleanlyWithStatus143() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = RunFolder(dir.appendingPathComponent("run"))
        let child = try SimclrProcess(Self.flags + ["--epochs", "1000", "--out", run.url.path])
        XCTAssertTrue(child.waitUntil { ((try? MetricsLog.read(run.metrics)) ?? []).count >= 2 }, child.stderr)
        kill(child.pid, SIGTERM)
        let sent = Date()
        child.wait()
        print("SIGTERM to exit: \(String(format: "%.2f", Date().timeIntervalSince(sent))) s")
        XCTAssertEqual(child.process.terminationReason, .exit)
        XCTAssertEqual(child.process.terminationStatus, 143, child.stderr)
        XCTAssertTrue(child.stdout.contains("resume with    simclr train --out \(run.url.path) --resume"), child.stdout)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.summary)) as? [String: Any])
        XCTAssertEqual(json["stopped_by"] as? String, "SIGTERM")
        XCTAssertEqual(json["completed"] as? Bool, false)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.curves.path))
        let info = try Checkpoint.info(XCTUnwrap(run.latestCheckpoint))
        let lastLogged = try XCTUnwrap(MetricsLog.read(run.metrics).map(\.step).max())
        XCTAssertGreaterThanOrEqual(info.step, lastLogged, "the checkpoint is of the step the run stopped at")
        XCTAssertEqual(json["last_checkpoint"] as? String, run.latestCheckpoint?.path)
        try Checkpoint.load(XCTUnwrap(run.latestCheckpoint), into: SimCLRModel(encoder: info.config.encoderConfig, head: info.config.headConfig, seed: 0),
                            optimizer: nil)
    }

    func testASecondSIGINTWhileCheckpointingStopsAtOnceKeepingTheLastCompleteCheckpoint() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = RunFolder(dir.appendingPathComponent("run"))
        let args = Self.flags + ["--epochs", "3", "--out", run.url.path]
        // SIGINT after step 5; the second one just before the rename of step 5's checkpoint (rename 4
        // of the process: config.yaml, epoch 1's checkpoint, its pointer, then this one).
        let child = try SimclrProcess.run(args, environment: ["SIMCLR_FAULT": "train-step@5:sigint,atomic-rename@4:sigint"])
        XCTAssertEqual(child.process.terminationReason, .exit)
        XCTAssertEqual(child.process.terminationStatus, 130, child.stderr)
        XCTAssertTrue(child.stderr.contains("stopped at once"), child.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: run.checkpoints.path)
        XCTAssertTrue(names.contains { $0.hasPrefix(".checkpoint-epoch0002-step00000005") && $0.contains(".tmp-") },
                      "it died inside the write: \(names)")
        XCTAssertEqual(run.latestCheckpoint?.lastPathComponent, Checkpoint.fileName(epoch: 1))
        let info = try Checkpoint.info(XCTUnwrap(run.latestCheckpoint))
        try Checkpoint.load(info.url, into: SimCLRModel(encoder: info.config.encoderConfig, head: info.config.headConfig, seed: 0), optimizer: nil)

        let resumed = try SimclrProcess.run(args)
        XCTAssertEqual(resumed.process.terminationStatus, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming from \(info.url.path)"), resumed.stderr)
        let after = try FileManager.default.contentsOfDirectory(atPath: run.checkpoints.path)
        XCTAssertFalse(after.contains { $0.contains(".tmp-") }, "the dead writer's temporary file is removed: \(after)")
        XCTAssertEqual(try MetricsLog.read(run.metrics).filter { $0.kind == .step }.map(\.step), [2, 4, 6, 8, 10, 12])
    }

    func testAFileSizeLimitBelowACheckpointIsReportedWithTheSizeNeeded() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = RunFolder(dir.appendingPathComponent("run"))
        // 2 MiB (ulimit -f counts KiB); a tiny checkpoint is about 5.5 MiB. SIGXFSZ is not ignored
        // by the shell: the program ignores it itself.
        let child = try SimclrProcess.run(Self.flags + ["--epochs", "1", "--out", run.url.path], shellPrefix: "ulimit -f 2048;")
        XCTAssertEqual(child.process.terminationReason, .exit, "not killed by SIGXFSZ")
        XCTAssertNotEqual(child.process.terminationStatus, 0)
        let m = child.stderr
        XCTAssertTrue(m.contains("cannot write checkpoint \(run.checkpoints.path)/\(Checkpoint.fileName(epoch: 1))"), m)
        XCTAssertTrue(m.contains("File too large") && m.contains("file-size limit") && m.contains("needs"), m)
        XCTAssertTrue(m.contains("No earlier checkpoint exists"), m)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run.checkpoints.path), [], "nothing partial is left")
        XCTAssertNil(run.latestCheckpoint)
    }

    func testASecondRunIntoAFolderALiveProcessTrainsIntoIsRefused() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = RunFolder(dir.appendingPathComponent("run"))
        let args = Self.flags + ["--epochs", "1000", "--out", run.url.path]
        let first = try SimclrProcess(args)
        let lockFile = run.url.appendingPathComponent(RunFolderLock.fileName)
        XCTAssertTrue(first.waitUntil { (try? String(contentsOf: lockFile, encoding: .utf8)) == "\(first.pid)\n" }, first.stderr)
        let second = try SimclrProcess.run(args)
        XCTAssertNotEqual(second.process.terminationStatus, 0)
        XCTAssertTrue(second.stderr.contains(run.url.path) && second.stderr.contains("pid \(first.pid)"), second.stderr)
        XCTAssertTrue(first.process.isRunning, "the first run goes on")

        // A dead process holds no lock: after SIGKILL the folder can be trained into again.
        kill(first.pid, SIGKILL)
        first.wait()
        XCTAssertNoThrow(try RunFolderLock(run))
    }
}
