// What stops a run early, and what it leaves: a non-finite weight, BN statistic or optimizer
// buffer is caught before a checkpoint is written (the previous checkpoint stays the last one),
// and curves.png is written for a run that stops after its first logged step, whatever the reason.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class TrainerSafetyTests: XCTestCase {
    private func quietTrainer(_ c: TrainConfig, _ dir: URL, data: TrainingData? = nil) -> Trainer {
        let t = Trainer(config: c, folder: RunFolder(dir), data: data)
        t.showProgress = false
        t.log = { _ in }
        return t
    }

    func testFiniteScanNamesTheFirstNonFiniteTensorOfACheckpoint() throws {
        let c = TrainerTests.tinyTrainConfig()
        let model = SimCLRModel(encoder: c.encoderConfig, head: c.headConfig, seed: 0)
        let optimizer = try c.optimization.optimizer.make(parameters: model.parameters, settings: c.optimizerSettings)
        XCTAssertNil(FiniteScan.firstNonFinite(FiniteScan.checkpointTensors(model: model, optimizer: optimizer)))
        let state = optimizer.state()
        let key = state.keys.sorted()[3]
        state[key]![2] = -.infinity
        try optimizer.loadState(state)
        let bad = try XCTUnwrap(FiniteScan.firstNonFinite(FiniteScan.checkpointTensors(model: model, optimizer: optimizer)))
        XCTAssertEqual(bad.name, "optimizer." + key)
        XCTAssertEqual(bad.value, -.infinity)
        let bn = try XCTUnwrap(model.buffers.first { $0.name.hasSuffix("running_var") })
        bn.value[0] = .nan
        XCTAssertEqual(FiniteScan.firstNonFinite(FiniteScan.checkpointTensors(model: model, optimizer: optimizer))?.name, bn.name)
        model.parameters[1].value[0] = .infinity
        XCTAssertEqual(FiniteScan.firstNonFinite(FiniteScan.checkpointTensors(model: model, optimizer: optimizer))?.name,
                       model.parameters[1].name)
    }

    /// A NaN in a BN running variance leaves the loss finite (training normalises with batch
    /// statistics), so only the check before the checkpoint can stop it.
    func testNonFiniteStatisticStopsTheRunAndKeepsThePreviousCheckpoint() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = RunFolder(dir)
        let t = quietTrainer(TrainerTests.tinyTrainConfig(epochs: 3), dir)
        var poisoned = ""
        var epoch1 = Data()
        t.afterStep = { [unowned t] step in
            guard step == 5, let buffer = t.model?.buffers.first(where: { $0.name.hasSuffix("running_var") }) else { return }
            epoch1 = (try? Data(contentsOf: run.checkpoints.appendingPathComponent(Checkpoint.fileName(epoch: 1)))) ?? Data()
            buffer.value[1] = .nan
            poisoned = buffer.name
        }
        XCTAssertThrowsError(try t.run()) { error in
            guard case let TrainingError.nonFiniteState(tensor, value, step, epoch, checkpoint)? = error as? TrainingError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(tensor, poisoned)
            XCTAssertTrue(value.isNaN)
            XCTAssertEqual([step, epoch], [8, 2])
            XCTAssertEqual(checkpoint.map { URL(fileURLWithPath: $0).lastPathComponent }, Checkpoint.fileName(epoch: 1))
            let m = error.localizedDescription
            XCTAssertTrue(m.contains(poisoned) && m.contains("no checkpoint was written") && m.contains("last good checkpoint"), m)
        }
        XCTAssertFalse(poisoned.isEmpty)
        XCTAssertEqual(Checkpoint.files(in: run.checkpoints).map(\.lastPathComponent), [Checkpoint.fileName(epoch: 1)])
        XCTAssertEqual(try String(contentsOf: run.checkpoints.appendingPathComponent(Checkpoint.pointerName), encoding: .utf8),
                       Checkpoint.fileName(epoch: 1) + "\n")
        XCTAssertEqual(try Data(contentsOf: run.checkpoints.appendingPathComponent(Checkpoint.fileName(epoch: 1))), epoch1)
        XCTAssertEqual(run.latestCheckpoint?.lastPathComponent, Checkpoint.fileName(epoch: 1))
        // The run stopped before finishing, and still left its curves (steps 2, 4, 6, 8 logged).
        XCTAssertEqual(try MetricsLog.read(run.metrics).filter { $0.kind == .step }.map(\.step), [2, 4, 6, 8])
        XCTAssertEqual(Array(try Data(contentsOf: run.curves).prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.summary.path))
    }

    /// Images that cannot be read from a switch on: the loader's error ends the run.
    final class FailingImages: ImageDataset, @unchecked Sendable {
        let name = "failing"
        let count = 32
        let classNames: [String] = []
        private let lock = NSLock()
        private var broken = false
        func breakNow() { lock.withLock { broken = true } }
        func label(at index: Int) -> Int? { nil }
        func image(at index: Int) throws -> RGBImage {
            if lock.withLock({ broken }) { throw DatasetError.unreadable(path: "image \(index)", reason: "test failure") }
            return RGBImage(width: 16, height: 16, pixels: (0..<768).map { UInt8(truncatingIfNeeded: $0 * index + index) })
        }
    }

    func testRunStoppedByAnErrorAfterItsFirstLogStillWritesItsCurves() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = FailingImages()
        var c = TrainerTests.tinyTrainConfig(epochs: 4)
        c.runtime.prefetch = 1
        let t = quietTrainer(c, dir, data: TrainingData(train: images))
        t.afterStep = { step in if step == 2 { images.breakNow() } }
        XCTAssertThrowsError(try t.run()) { error in
            XCTAssertTrue(error.localizedDescription.contains("test failure"), error.localizedDescription)
        }
        let steps = try MetricsLog.read(RunFolder(dir).metrics).filter { $0.kind == .step }.map(\.step)
        XCTAssertTrue(steps.first == 2 && steps.last! < 16, "\(steps)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: RunFolder(dir).curves.path), "curves.png after an early stop")
    }

    func testNonFiniteLossStopWritesCurvesToo() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = TrainerTests.tinyTrainConfig(epochs: 3)
        c.optimization.lr = 1e30
        c.runtime.logInterval = 1
        XCTAssertThrowsError(try quietTrainer(c, dir).run()) { error in
            guard case TrainingError.nonFiniteLoss? = error as? TrainingError else { return XCTFail("unexpected \(error)") }
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: RunFolder(dir).curves.path))
    }
}
