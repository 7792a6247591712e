// What stops a run early, and what it leaves: curves.png is written for a run that stops after
// its first logged step, whatever the reason.
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
