// SIGINT / SIGTERM while training (in this process, raised from the step hook, so the handler
// runs at a known step): the run stops after the step, writes a checkpoint of it, curves.png and
// summary.json (incomplete, naming the signal), puts the old handlers back, and resuming gives
// the same bits as an uninterrupted run. Without `stopsOnSignals` no handler is installed.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class StopSignalTests: XCTestCase {
    /// The current handler of `signal` as an address (0: SIG_DFL, 1: SIG_IGN, else a function).
    private func handler(_ signal: Int32) -> Int {
        var old = sigaction()
        sigaction(signal, nil, &old)
        return unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self)
    }

    func testSIGINTStopsAfterTheStepWithACheckpointAndResumesToTheSameBits() throws {
        let a = try makeTemporaryDirectory(), b = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let c = MidEpochCheckpointTests.config(epochs: 3, checkpointSteps: 0)
        try MidEpochCheckpointTests.quiet(c, a).run()

        let defaultINT = handler(SIGINT), defaultTERM = handler(SIGTERM)
        for signal in StopSignal.allCases {
            let dir = b.appendingPathComponent(signal.name)
            let t = MidEpochCheckpointTests.quiet(c, dir)
            t.stopsOnSignals = true
            var installed = false
            t.afterStep = { step in
                if step == 6 {
                    installed = self.handler(signal.rawValue) != defaultINT
                    raise(signal.rawValue)  // the handler runs before raise returns
                }
            }
            let summary = try t.run()
            XCTAssertTrue(installed, "a handler is installed while training")
            XCTAssertFalse(summary.completed)
            XCTAssertEqual(summary.stoppedBy, signal.name)
            XCTAssertEqual(summary.stopSignal, signal)
            XCTAssertEqual(signal.exitCode, signal == .interrupt ? 130 : 143)
            let run = RunFolder(dir)
            XCTAssertEqual(try Checkpoint.info(XCTUnwrap(run.latestCheckpoint)).step, 6, "a checkpoint of the step it stopped at")
            XCTAssertEqual(run.latestCheckpoint?.lastPathComponent, "checkpoint-epoch0002-step00000006.safetensors")
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.curves.path))
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.summary)) as? [String: Any])
            XCTAssertEqual(json["completed"] as? Bool, false)
            XCTAssertEqual(json["stopped_by"] as? String, signal.name)
            XCTAssertEqual(handler(SIGINT), defaultINT, "the handlers are put back")
            XCTAssertEqual(handler(SIGTERM), defaultTERM)

            let resumed = try MidEpochCheckpointTests.quiet(c, dir).run()
            XCTAssertTrue(resumed.completed)
            XCTAssertNil(resumed.stoppedBy)
            let name = Checkpoint.fileName(epoch: 3)
            XCTAssertEqual(try Data(contentsOf: RunFolder(a).checkpoints.appendingPathComponent(name)),
                           try Data(contentsOf: run.checkpoints.appendingPathComponent(name)))
            XCTAssertEqual(try MetricsLog.read(run.metrics).filter { $0.kind == .step }.map(\.step), [2, 4, 6, 8, 10, 12])
        }
    }

    func testASignalDuringTheKNNMonitorCutsItShort() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = MidEpochCheckpointTests.config(epochs: 3, checkpointSteps: 0)
        c.runtime.knnInterval = 1
        let t = MidEpochCheckpointTests.quiet(c, dir)
        t.stopsOnSignals = true
        var logged: [String] = []
        t.log = { logged.append($0) }
        // The second batch of the kNN pass after epoch 1 raises SIGINT.
        FaultInjection.shared.arm([FaultPlan(point: .knnBatch, pass: 2, action: .signal(SIGINT))])
        defer { FaultInjection.shared.arm([]) }
        let summary = try t.run()
        XCTAssertEqual(summary.stoppedBy, "SIGINT")
        XCTAssertTrue(logged.contains { $0.contains("kNN monitor of epoch 1 skipped") }, "\(logged)")
        let records = try MetricsLog.read(RunFolder(dir).metrics)
        XCTAssertEqual(records.filter { $0.kind == .epoch }.map(\.epoch), [1], "the epoch's record is still written")
        XCTAssertNil(records.last?.knnTop1)
        XCTAssertEqual(try Checkpoint.info(XCTUnwrap(RunFolder(dir).latestCheckpoint)).step, 4)
    }

    func testWithoutStopsOnSignalsNoHandlerIsInstalled() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = handler(SIGINT)
        let t = MidEpochCheckpointTests.quiet(MidEpochCheckpointTests.config(epochs: 1, checkpointSteps: 0), dir)
        var during: Int?
        t.afterStep = { _ in during = self.handler(SIGINT) }
        try t.run()
        XCTAssertEqual(during, before)
    }
}
