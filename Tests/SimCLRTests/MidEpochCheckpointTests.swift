// Checkpoints inside epochs (--checkpoint-steps): named by step, carrying the run's progress, and
// a run resumed from one ends with the same bits and writes the same metrics and TensorBoard
// points (each step once) as an uninterrupted run.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class MidEpochCheckpointTests: XCTestCase {
    /// The trainer tests' tiny run (4 steps per epoch), one compute thread.
    static func config(epochs: Int, checkpointSteps: Int) -> TrainConfig {
        var c = TrainerTests.tinyTrainConfig(epochs: epochs)
        c.runtime.threads = 1
        c.runtime.loaderThreads = 1
        c.runtime.checkpointSteps = checkpointSteps
        c.runtime.keepCheckpoints = 100
        return c
    }

    static func quiet(_ c: TrainConfig, _ dir: URL, data: TrainingData? = nil) -> Trainer {
        let t = Trainer(config: c, folder: RunFolder(dir), data: data)
        t.showProgress = false
        t.log = { _ in }
        return t
    }

    func testNamesSortInTrainingOrderAndCarryTheProgress() throws {
        XCTAssertEqual(Checkpoint.fileName(step: 8, stepsPerEpoch: 4), Checkpoint.fileName(epoch: 2))
        XCTAssertEqual(Checkpoint.fileName(step: 6, stepsPerEpoch: 4), "checkpoint-epoch0002-step00000006.safetensors")
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.quiet(Self.config(epochs: 2, checkpointSteps: 3), dir).run()
        let files = Checkpoint.files(in: RunFolder(dir).checkpoints)
        XCTAssertEqual(files.map(\.lastPathComponent), [
            "checkpoint-epoch0001-step00000003.safetensors", Checkpoint.fileName(epoch: 1),
            "checkpoint-epoch0002-step00000006.safetensors", Checkpoint.fileName(epoch: 2),
        ])
        let infos = try files.map(Checkpoint.info)
        XCTAssertEqual(infos.map(\.step), [3, 4, 6, 8])
        XCTAssertEqual(infos.map(\.epoch), [0, 1, 1, 2], "completed epochs")
        XCTAssertEqual(infos.map { $0.progress?.stepsPerEpoch }, [4, 4, 4, 4])
        // Log interval 2: at step 3 the log window holds step 3; epoch 2's window holds steps 5 and 6.
        XCTAssertEqual(infos[0].progress?.logWindow.steps, 1)
        XCTAssertEqual(infos[0].progress?.epochWindow.steps, 3)
        XCTAssertEqual(infos[2].progress?.logWindow.steps, 0)
        XCTAssertEqual(infos[2].progress?.epochWindow.steps, 2)
        XCTAssertEqual(infos[3].progress?.epochWindow.steps, 0, "at an epoch's end the next epoch's window is empty")
        XCTAssertEqual(try Checkpoint.info(XCTUnwrap(RunFolder(dir).latestCheckpoint)).step, 8)
    }

    func testProgressReadsBackBitForBit() throws {
        var p = RunProgress(stepsPerEpoch: 390)
        p.logWindow = RunProgress.WindowSums(loss: 4.4399999999999995, top1: 0.1 + 0.2, top5: 1e-300, steps: 7, images: 1792)
        p.epochWindow = RunProgress.WindowSums(loss: 123456.789, top1: 5e-324, top5: 0, steps: 389, images: 99584)
        XCTAssertEqual(RunProgress(json: p.json), p)
        XCTAssertNil(RunProgress(json: "{\"steps_per_epoch\": 0}"))
        XCTAssertNil(RunProgress(json: p.json.replacingOccurrences(of: "\"log_steps\": 7", with: "\"log_steps\": -7")))
    }

    func testResumeFromAMidEpochCheckpointMatchesAnUninterruptedRun() throws {
        let a = try makeTemporaryDirectory(), b = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let c = Self.config(epochs: 3, checkpointSteps: 3)
        try Self.quiet(c, a).run()

        // Stopped right after step 7's update: the newest checkpoint is step 6's, inside epoch 2.
        let first = Self.quiet(c, b)
        first.stopAfterStep = 7
        try first.run()
        XCTAssertEqual(try Checkpoint.info(XCTUnwrap(RunFolder(b).latestCheckpoint)).step, 6)
        let resumed = try Self.quiet(c, b).run()
        XCTAssertEqual(resumed.startStep, 6)

        let name = Checkpoint.fileName(epoch: 3)
        XCTAssertEqual(try Data(contentsOf: RunFolder(a).checkpoints.appendingPathComponent(name)),
                       try Data(contentsOf: RunFolder(b).checkpoints.appendingPathComponent(name)),
                       "weights, statistics, optimizer state and progress, bit for bit")
        // metrics.jsonl: the same records (the epoch 2 average spans the resume), each step once.
        func values(_ dir: URL) throws -> [[Double?]] {
            try MetricsLog.read(RunFolder(dir).metrics).map { [Double($0.step), Double($0.epoch), $0.loss, $0.top1, $0.top5, $0.lr] }
        }
        XCTAssertEqual(try values(b), try values(a))
        XCTAssertEqual(try MetricsLog.read(RunFolder(b).metrics).filter { $0.kind == .step }.map(\.step), [2, 4, 6, 8, 10, 12])
        // TensorBoard: one file, each step once, the same values.
        let files = TFEventsWriter.eventFiles(in: RunFolder(b).tensorboard)
        XCTAssertEqual(files.count, 1)
        let sb = try TFEventsReader.scalars(at: files[0])
        let sa = try TFEventsReader.scalars(at: TFEventsWriter.eventFiles(in: RunFolder(a).tensorboard)[0])
        XCTAssertEqual(Set(sb.keys), Set(sa.keys))
        for (tag, points) in sa {
            XCTAssertEqual(sb[tag]?.map(\.step), points.map(\.step), tag)
            if !tag.contains("images_per_s") && !tag.contains("wait") {
                XCTAssertEqual(sb[tag]?.map(\.value), points.map(\.value), tag)
            }
        }
    }

    func testACheckpointFromAnotherBatchSizeIsRefused() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = Self.quiet(Self.config(epochs: 3, checkpointSteps: 3), dir)
        first.stopAfterStep = 4
        try first.run()  // newest: step 3, mid-epoch
        var other = Self.config(epochs: 3, checkpointSteps: 3)
        other.data.syntheticCount = 48  // 6 steps per epoch
        XCTAssertThrowsError(try Self.quiet(other, dir).run()) { error in
            guard case TrainingError.checkpointDoesNotFit(_, let step, let spe)? = error as? TrainingError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(step, 3)
            XCTAssertEqual(spe, 6)
            XCTAssertTrue(error.localizedDescription.contains("steps per epoch"), error.localizedDescription)
        }
    }

    func testCheckpointStepsIsValidated() throws {
        var c = Self.config(epochs: 1, checkpointSteps: -1)
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue($0.localizedDescription.contains("--checkpoint-steps"), $0.localizedDescription) }
        c.runtime.checkpointSteps = 0
        XCTAssertNoThrow(try c.validate())
    }
}
