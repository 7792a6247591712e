// The trainer end to end on the synthetic dataset (tiny width, 16 x 16, batch 8): the run folder's
// files, read back; stop-after-step-k then resume ends bit-identical to an uninterrupted run;
// a diverging run stops with a clear message and keeps its last good checkpoint.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class TrainerTests: XCTestCase {
    /// 32 images, batch 8: 4 steps per epoch.
    static func tinyTrainConfig(epochs: Int = 2) -> TrainConfig {
        var c = TrainConfig.defaults(for: .synthetic)
        c.data.syntheticCount = 32
        c.data.imageSize = 16
        c.model.width = 0.25
        c.model.headOut = 16
        c.optimization.batchSize = 8
        c.optimization.epochs = epochs
        c.runtime.logInterval = 2
        c.runtime.threads = 2
        c.runtime.loaderThreads = 2
        return c
    }

    private func quietTrainer(_ c: TrainConfig, _ dir: URL) -> Trainer {
        let t = Trainer(config: c, folder: RunFolder(dir))
        t.showProgress = false
        t.log = { _ in }
        return t
    }

    func testTinyRunWritesEveryFileOfTheRunFolder() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = Self.tinyTrainConfig(epochs: 4)
        c.runtime.knnInterval = 2
        c.runtime.keepCheckpoints = 3
        let summary = try quietTrainer(c, dir).run()
        let run = RunFolder(dir)
        XCTAssertTrue(summary.completed)
        XCTAssertEqual(summary.steps, 16)

        // config.yaml: the full resolved configuration, readable as a --config file.
        XCTAssertEqual(try TrainConfig.resolve([try ConfigLayer(contentsOf: run.config, known: TrainConfig.keys)]), c)

        // metrics.jsonl: a line every 2 steps and every epoch; kNN at epochs 2 and 4; data-wait share.
        let records = try MetricsLog.read(run.metrics)
        XCTAssertEqual(records.filter { $0.kind == .step }.map(\.step), [2, 4, 6, 8, 10, 12, 14, 16])
        XCTAssertEqual(records.filter { $0.kind == .epoch }.map(\.epoch), [1, 2, 3, 4])
        XCTAssertEqual(records.filter { $0.knnTop1 != nil }.map(\.epoch), [2, 4])
        for r in records {
            XCTAssertTrue(r.loss!.isFinite && r.loss! > 0)
            XCTAssertTrue((0...1).contains(r.top1!) && r.top5! >= r.top1!)
            XCTAssertNotNil(r.lr)
            XCTAssertGreaterThan(r.imagesPerSecond ?? 0, 0)
        }
        let lines = try String(contentsOf: run.metrics, encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(lines.allSatisfy { $0.contains("\"data_wait_share\": ") })
        // The lr of the last step record is the cosine schedule's value at step 15 of 16.
        let schedule = try LearningRateSchedule(baseLearningRate: 0.12, scaling: .linear, batchSize: 8, totalSteps: 16)
        XCTAssertEqual(records.last { $0.kind == .step }!.lr!, Double(schedule.lr(atStep: 15)))

        // TensorBoard scalars read back.
        let eventFiles = try FileManager.default.contentsOfDirectory(atPath: run.tensorboard.path)
        XCTAssertEqual(eventFiles.count, 1)
        let scalars = try TFEventsReader.scalars(at: run.tensorboard.appendingPathComponent(eventFiles[0]))
        XCTAssertEqual(scalars["train/loss"]?.map(\.step), [2, 4, 6, 8, 10, 12, 14, 16])
        XCTAssertEqual(scalars["knn/top1"]?.count, 2)
        XCTAssertEqual(Double(scalars["train/loss"]![0].value), records[0].loss!, accuracy: 1e-6)

        // Checkpoints: the last 3 kept, `last` names the final one, at step 16.
        XCTAssertEqual(Checkpoint.files(in: run.checkpoints).map(\.lastPathComponent),
                       (2...4).map { Checkpoint.fileName(epoch: $0) })
        let info = try Checkpoint.info(XCTUnwrap(run.latestCheckpoint))
        XCTAssertEqual(info.epoch, 4)
        XCTAssertEqual(info.step, 16)

        // curves.png and summary.json.
        let png = try Data(contentsOf: run.curves)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: run.summary)) as? [String: Any]
        XCTAssertEqual(json?["steps"] as? Int, 16)
        XCTAssertNotNil(json?["data_wait_share"])

        // Re-running into the finished folder resumes at the end: nothing more is trained.
        let again = try quietTrainer(c, dir).run()
        XCTAssertEqual(again.startStep, 16)
        XCTAssertEqual(try MetricsLog.read(run.metrics).count, records.count)
    }

    func testStopAfterStepThenResumeIsBitIdenticalToAnUninterruptedRun() throws {
        let a = try makeTemporaryDirectory(), b = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let c = Self.tinyTrainConfig(epochs: 3)
        try quietTrainer(c, a).run()

        // Stops right after the update of step 7 (mid epoch 2): only epoch 1's checkpoint exists.
        let first = quietTrainer(c, b)
        first.stopAfterStep = 7
        let partial = try first.run()
        XCTAssertFalse(partial.completed)
        XCTAssertEqual(Checkpoint.files(in: RunFolder(b).checkpoints).map(\.lastPathComponent), [Checkpoint.fileName(epoch: 1)])

        let second = quietTrainer(c, b)
        second.requireResume = true
        let resumed = try second.run()
        XCTAssertEqual(resumed.startStep, 4)
        let name = Checkpoint.fileName(epoch: 3)
        let wa = try Data(contentsOf: RunFolder(a).checkpoints.appendingPathComponent(name))
        let wb = try Data(contentsOf: RunFolder(b).checkpoints.appendingPathComponent(name))
        XCTAssertEqual(wa, wb, "weights, BN statistics and optimizer state must match bit for bit")
        // The log has no duplicate steps after the resume.
        let steps = try MetricsLog.read(RunFolder(b).metrics).filter { $0.kind == .step }.map(\.step)
        XCTAssertEqual(steps, [2, 4, 6, 8, 10, 12])
    }

    func testResumeIsRequiredWhenAskedAndRefusedForAnotherArchitecture() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = Self.tinyTrainConfig(epochs: 1)
        let t = quietTrainer(c, dir)
        t.requireResume = true
        XCTAssertThrowsError(try t.run()) { error in
            XCTAssertTrue(error.localizedDescription.contains("no checkpoint"), error.localizedDescription)
        }
        try quietTrainer(c, dir).run()
        var other = c
        other.model.arch = .resnet34
        XCTAssertThrowsError(try quietTrainer(other, dir).run()) { error in
            XCTAssertTrue(error.localizedDescription.contains("--arch"), error.localizedDescription)
        }
    }

    func testDivergingRunStopsWithAClearMessageAndKeepsTheLastGoodCheckpoint() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = Self.tinyTrainConfig(epochs: 1)
        try quietTrainer(c, dir).run()
        let good = try Data(contentsOf: RunFolder(dir).checkpoints.appendingPathComponent(Checkpoint.fileName(epoch: 1)))
        c.optimization.epochs = 3
        c.optimization.lr = 1e30
        XCTAssertThrowsError(try quietTrainer(c, dir).run()) { error in
            guard case let TrainingError.nonFiniteLoss(step, _, value, checkpoint)? = error as? TrainingError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertFalse(value.isFinite)
            XCTAssertGreaterThanOrEqual(step, 4)
            XCTAssertEqual(checkpoint.map { URL(fileURLWithPath: $0).lastPathComponent }, Checkpoint.fileName(epoch: 1))
            XCTAssertTrue(error.localizedDescription.contains("loss is"), error.localizedDescription)
        }
        XCTAssertEqual(Checkpoint.files(in: RunFolder(dir).checkpoints).map(\.lastPathComponent), [Checkpoint.fileName(epoch: 1)])
        XCTAssertEqual(try Data(contentsOf: RunFolder(dir).checkpoints.appendingPathComponent(Checkpoint.fileName(epoch: 1))), good)
    }

    func testRunFolderThatIsAFileAndTooFewImagesAreRefused() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("occupied")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try quietTrainer(Self.tinyTrainConfig(), file).run()) { error in
            XCTAssertTrue(error.localizedDescription.contains("--out"), error.localizedDescription)
        }
        var c = Self.tinyTrainConfig()
        c.optimization.batchSize = 64
        XCTAssertThrowsError(try quietTrainer(c, dir.appendingPathComponent("run")).run()) { error in
            let m = error.localizedDescription
            XCTAssertTrue(m.contains("--batch-size 64") && m.contains("32 images"), m)
        }
    }

    /// A dataset defined by the caller (not a `DatasetSpec`) trains, monitors and evaluates.
    func testTrainsAndEvaluatesOnACallersOwnDataset() throws {
        struct Checkers: ImageDataset {
            let name = "checkers"
            let count = 24
            let classNames = ["fine", "coarse"]
            func label(at index: Int) -> Int? { index % 2 }
            func image(at index: Int) throws -> RGBImage {
                var image = RGBImage(width: 12, height: 12)
                let cell = index % 2 == 0 ? 2 : 4
                for y in 0..<12 { for x in 0..<12 where (x / cell + y / cell) % 2 == 0 {
                    for c in 0..<3 { image.pixels[(y * 12 + x) * 3 + c] = UInt8((index * 40 + c * 70) % 256) }
                } }
                return image
            }
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = Self.tinyTrainConfig(epochs: 2)
        c.runtime.knnInterval = 1
        let t = Trainer(config: c, folder: RunFolder(dir), data: TrainingData(train: Checkers(), monitor: (Checkers(), Checkers())))
        t.showProgress = false
        var logged: [String] = []
        t.log = { logged.append($0) }
        let summary = try t.run()
        XCTAssertEqual(summary.steps, 2 * (24 / 8))
        XCTAssertNotNil(summary.knnTop1)
        XCTAssertTrue(logged.contains { $0.contains("on checkers") }, "\(logged)")
        let encoder = try XCTUnwrap(t.model?.encoder)
        let linear = try LinearEvaluation.run(encoder: encoder, train: Checkers(), eval: Checkers(), augmentation: c.augmentation,
                                              options: LinearProbeOptions(maxIterations: 20))
        XCTAssertEqual(linear.evaluation?.count, 24)
        // h of one image is row 5 of the whole dataset's features.
        let all = try FeatureExtraction.extract(encoder: encoder, dataset: Checkers(), augmentation: c.augmentation)
        let h = try FeatureExtraction.representation(of: try Checkers().image(at: 5), encoder: encoder, augmentation: c.augmentation)
        let d = encoder.featureDim
        XCTAssertEqual(h, Array(UnsafeBufferPointer(start: all.features.data + 5 * d, count: d)))
    }
}
