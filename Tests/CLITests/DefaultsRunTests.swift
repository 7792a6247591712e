// Every dataset's defaults, tried as a new user would: `simclr train --dataset D --data-dir X
// --epochs 1` is accepted with the recipe's values (the warmup shortened to the run), and a
// one-epoch run on tiny data in the official layout trains, monitors and writes its pictures
// (only the batch size, width and thread count are made small for the test).
import ArgumentParser
import Foundation
@testable import SimCLR
@testable import SimCLRCLI
import TestSupport
import XCTest

final class DefaultsRunTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try makeTemporaryDirectory("defaults") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The data of `name` in its official layout, and the flags that point at it.
    func data(_ name: DatasetSpec.Name) throws -> [String] {
        let root = dir.appendingPathComponent(name.rawValue)
        switch name {
        case .cifar10: try OfficialLayouts.cifar10(in: root, perBatch: 4, test: 6)
        case .cifar100: try OfficialLayouts.cifar100(in: root, train: 16, test: 4)
        case .stl10: try OfficialLayouts.stl10(in: root, train: 8, test: 4, unlabeled: 16)
        case .folder: try OfficialLayouts.folder(in: root, classes: ["circles", "stripes"], perClass: 8)
        case .synthetic: return ["--dataset", "synthetic", "--synthetic-count", "16"]
        }
        var flags = ["--dataset", name.rawValue, "--data-dir", root.path]
        if name == .folder { flags += ["--cache-dir", dir.appendingPathComponent("cache").path] }
        return flags
    }

    func command(_ args: [String]) throws -> TrainCommand {
        do {
            return try XCTUnwrap(SimCLRCommand.parseAsRoot(["train"] + args) as? TrainCommand)
        } catch {
            XCTFail("\(args): refused: \(SimCLRCommand.message(for: error))")
            throw error
        }
    }

    func testEveryDatasetsDefaultsAcceptAOneEpochRun() throws {
        for name in DatasetSpec.Name.allCases {
            let flags = try data(name) + ["--epochs", "1", "--out", dir.appendingPathComponent("unused").path]
            let c = try command(flags).resolvedConfig()
            let r = DatasetRecipe.of(name)
            XCTAssertEqual(c.data.trainSplit, r.trainSplit, name.rawValue)
            XCTAssertEqual(c.data.imageSize, r.imageSize, name.rawValue)
            XCTAssertEqual(c.model.stem, r.stem, name.rawValue)
            XCTAssertEqual(c.optimization.optimizer, r.optimizer, name.rawValue)
            XCTAssertEqual(c.optimization.lr, r.lr, name.rawValue)
            XCTAssertEqual(c.optimization.weightDecay, r.weightDecay, name.rawValue)
            XCTAssertEqual(c.optimization.temperature, r.temperature, name.rawValue)
            XCTAssertEqual(c.optimization.warmupEpochs, min(r.warmupEpochs, 1), name.rawValue)
            XCTAssertEqual(c.augment.jitter, r.jitter, name.rawValue)
            XCTAssertEqual(c.augment.blur, r.blur, name.rawValue)
        }
    }

    /// Trains one epoch of `name` with the defaults (and the kNN monitor) and returns the run folder.
    func oneEpoch(_ name: DatasetSpec.Name, extra: [String] = [], monitor: Bool = true, steps: Int) throws -> RunFolder {
        let out = dir.appendingPathComponent("run-\(name.rawValue)")
        let cmd = try command(try data(name) + extra + ["--epochs", "1", "--batch-size", "8", "--width", "0.25", "--threads", "2",
                                                        "--knn-interval", monitor ? "1" : "0", "--quiet", "--out", out.path])
        try cmd.run()
        let run = RunFolder(out)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.summary)) as? [String: Any])
        XCTAssertEqual(summary["completed"] as? Bool, true, name.rawValue)
        XCTAssertEqual(summary["steps"] as? Int, steps, name.rawValue)
        if monitor { XCTAssertNotNil(summary["knn_top1"], "\(name.rawValue): the kNN monitor ran on the labelled splits") }
        for picture in [run.curves, run.neighbors] {
            XCTAssertEqual(Array(try Data(contentsOf: picture).prefix(4)), [0x89, 0x50, 0x4E, 0x47], "\(name.rawValue) \(picture.lastPathComponent)")
        }
        let config = try TrainConfig.resolve([try ConfigLayer(contentsOf: run.config, known: TrainConfig.keys)])
        XCTAssertEqual(config.optimization.optimizer, DatasetRecipe.of(name).optimizer)
        return run
    }

    func testCIFAR10OneEpoch() throws { _ = try oneEpoch(.cifar10, steps: 20 / 8) }
    func testCIFAR100OneEpoch() throws { _ = try oneEpoch(.cifar100, steps: 16 / 8) }
    /// Without the monitor (its 1,000 validation images are slow here), the picture still comes from the labelled splits.
    func testSyntheticOneEpoch() throws { _ = try oneEpoch(.synthetic, monitor: false, steps: 16 / 8) }

    /// STL-10 pretrains on train+unlabeled (24 images: 3 steps, not the 1 of its 8 labelled ones).
    func testSTL10OneEpochReadsTheUnlabeledImages() throws {
        let run = try oneEpoch(.stl10, steps: (8 + 16) / 8)
        XCTAssertEqual(try TrainConfig.resolve([try ConfigLayer(contentsOf: run.config, known: TrainConfig.keys)]).data.trainSplit,
                       .trainAndUnlabeled)
    }

    /// A folder of PNG and JPEG files at 224 x 224, a quarter of each class held out for the monitor.
    func testFolderOneEpochWithAHeldOutFraction() throws {
        _ = try oneEpoch(.folder, extra: ["--val-fraction", "0.25"], steps: 12 / 8)
        let cache = dir.appendingPathComponent("cache")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".cache") }.count, 1)
        XCTAssertFalse((FileManager.default.subpaths(atPath: dir.appendingPathComponent("folder").path) ?? []).contains { $0.contains("cache") },
                       "nothing is written into the image folder")
    }
}
