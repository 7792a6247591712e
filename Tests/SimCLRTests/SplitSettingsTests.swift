// The split settings: the pretraining split (per-dataset default, refusals naming the flag),
// CIFAR-100 label granularity, image-folder held-out splits, the evaluation split that never
// holds training images, and the image-folder cache location ($SIMCLR_CACHE, never the data folder).
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class SplitSettingsTests: XCTestCase {
    func flags(_ values: [String: Any]) -> ConfigLayer { ConfigLayer(values, from: .flags) }

    func refusal(_ values: [String: Any], file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try TrainConfig.resolve([flags(values)])
            XCTFail("\(values) should be refused", file: file, line: line)
            return ""
        } catch {
            return error.localizedDescription
        }
    }

    func testTrainSplitDefaultsPerDatasetAndIsChecked() throws {
        XCTAssertEqual(TrainConfig.defaults(for: .stl10).data.trainSplit, .trainAndUnlabeled)
        for name in [DatasetSpec.Name.cifar10, .cifar100, .folder, .synthetic] {
            XCTAssertEqual(TrainConfig.defaults(for: name).data.trainSplit, .train, name.rawValue)
        }
        XCTAssertEqual(try TrainConfig.resolve([flags(["dataset": "stl10", "train_split": "train"])]).data.trainSplit, .train)
        XCTAssertEqual(try TrainConfig.resolve([flags(["dataset": "cifar10", "train_split": "batches:1,2"])]).data.trainSplit,
                       .batches([1, 2]))
        let m = refusal(["dataset": "cifar10", "train_split": "unlabeled"])
        XCTAssertTrue(m.hasPrefix("--train-split unlabeled is not allowed: expected a split of cifar10: train, val, test"), m)
        let v = refusal(["dataset": "cifar10", "train_split": "val"])
        XCTAssertTrue(v.contains("--train-split val") && v.contains("--val-batches"), v)
        XCTAssertNoThrow(try TrainConfig.resolve([flags(["dataset": "cifar10", "train_split": "val", "val_batches": [5]])]))
        let f = refusal(["dataset": "folder", "data_dir": "/photos", "train_split": "val"])
        XCTAssertTrue(f.contains("--val-dir or --val-fraction"), f)
        let bad = refusal(["dataset": "stl10", "train_split": "everything"])
        XCTAssertTrue(bad.hasPrefix("--train-split 'everything' is not allowed"), bad)
        // The help and the README table say so.
        XCTAssertTrue(DatasetRecipe.helpTable.contains("--train-split: train+unlabeled for stl10, train for the others"),
                      DatasetRecipe.helpTable)
        XCTAssertTrue(DatasetRecipe.markdownTable.contains("| stl10 | train+unlabeled | 96 |"))
        XCTAssertTrue(DatasetRecipe.helpTable.split(separator: "\n").allSatisfy { $0.count <= 80 })
    }

    func testCIFAR100LabelsAndHeldOutSettingsAreChecked() throws {
        let c = try TrainConfig.resolve([flags(["dataset": "cifar100", "cifar100_labels": "coarse"])])
        XCTAssertEqual(c.data.spec(split: .train).cifar100Labels, .coarse)
        XCTAssertEqual(try TrainConfig.resolve([flags(["dataset": "cifar100"])]).data.cifar100Labels, .fine)
        XCTAssertTrue(refusal(["dataset": "cifar10", "cifar100_labels": "coarse"]).contains("only cifar100"))
        XCTAssertTrue(refusal(["dataset": "cifar100", "cifar100_labels": "medium"]).contains("fine or coarse"))
        let folder: [String: Any] = ["dataset": "folder", "data_dir": "/photos"]
        for bad in [0.0 - 0.1, 1.0, 1.5] {
            let m = refusal(folder.merging(["val_fraction": bad]) { $1 })
            XCTAssertTrue(m.hasPrefix("--val-fraction \(bad) is not allowed: expected a fraction"), m)
        }
        XCTAssertTrue(refusal(["dataset": "cifar10", "val_fraction": 0.1]).contains("only image folders"))
        XCTAssertTrue(refusal(["dataset": "stl10", "val_dir": "/v"]).hasPrefix("--val-dir /v is not allowed"))
        XCTAssertTrue(refusal(folder.merging(["val_dir": "/v", "val_fraction": 0.1]) { $1 }).contains("not both"))
        XCTAssertTrue(refusal(folder.merging(["val_dir": "/photos/"]) { $1 }).contains("other than --data-dir"))
        let knn = refusal(folder.merging(["knn_interval": 1]) { $1 })
        XCTAssertTrue(knn.contains("--knn-interval") && knn.contains("--val-dir or --val-fraction"), knn)
        let held = try TrainConfig.resolve([flags(folder.merging(["val_fraction": 0.1, "split_seed": 4, "knn_interval": 1]) { $1 })])
        XCTAssertEqual(held.data.evaluationSplit, .validation)
        XCTAssertEqual(held.data.spec(split: .validation).folderHeldOut, .fraction(0.1, seed: 4))
        let dir = try TrainConfig.resolve([flags(folder.merging(["val_dir": "/v"]) { $1 })])
        XCTAssertEqual(dir.data.spec(split: .validation).folderHeldOut, .directory(URL(fileURLWithPath: "/v")))
        // The new keys round-trip through config.yaml.
        XCTAssertEqual(try TrainConfig.resolve([try ConfigLayer(yaml: try held.yaml(), file: "c.yaml", known: TrainConfig.keys)]), held)
        let stl = TrainConfig.defaults(for: .stl10)
        XCTAssertTrue(try stl.yaml().contains("train_split: train+unlabeled"))
    }

    func testEvaluationNeverScoresTrainingImages() throws {
        var c10 = DatasetSettings(dataset: .cifar10)
        XCTAssertEqual(try c10.scoredSplit(), .test)
        for bad in ["train", "batches:1", "val"] {
            XCTAssertThrowsError(try c10.scoredSplit(requested: try DatasetSplit(parsing: bad)), bad) { error in
                XCTAssertTrue(error.localizedDescription.hasPrefix("--val-split \(bad) is not allowed"), error.localizedDescription)
            }
        }
        c10.valBatches = [5]
        XCTAssertEqual(try c10.scoredSplit(), .validation)
        XCTAssertEqual(try c10.scoredSplit(requested: .batches([5])), .batches([5]))
        XCTAssertThrowsError(try c10.scoredSplit(requested: .batches([4, 5])))
        XCTAssertTrue(c10.holdsTrainingImages(.batches([4, 5])))
        XCTAssertFalse(c10.holdsTrainingImages(.test))
        let stl = DatasetSettings(dataset: .stl10)
        XCTAssertEqual(try stl.scoredSplit(), .test)
        XCTAssertThrowsError(try stl.scoredSplit(requested: .trainAndUnlabeled))
        XCTAssertThrowsError(try DatasetSettings(dataset: .cifar100).scoredSplit(requested: .validation)) { error in
            XCTAssertTrue(error.localizedDescription.contains("a split of cifar100: train, test"), error.localizedDescription)
        }
        var folder = DatasetSettings(dataset: .folder)
        folder.dataDir = "/photos"
        for requested in [nil, DatasetSplit.validation] {
            XCTAssertThrowsError(try folder.scoredSplit(requested: requested)) { error in
                let m = error.localizedDescription
                XCTAssertTrue(m.contains("/photos") && m.contains("--val-dir DIR") && m.contains("--val-fraction F"), m)
            }
        }
        XCTAssertThrowsError(try folder.scoredSplit(requested: .train))
        folder.valFraction = 0.2
        XCTAssertEqual(try folder.scoredSplit(), .validation)
        XCTAssertThrowsError(try folder.scoredSplit(requested: .train))
    }

    func testFolderCacheGoesToSIMCLRCacheNeverToTheDataFolder() throws {
        let data = try makeTemporaryDirectory("cache-data"), cache = try makeTemporaryDirectory("cache-env")
        defer {
            unsetenv("SIMCLR_CACHE")
            try? FileManager.default.removeItem(at: data)
            try? FileManager.default.removeItem(at: cache)
        }
        let sub = data.appendingPathComponent("only")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        for i in 0..<3 { try PNGCodec.write(RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: UInt8(i), count: 12)), to: sub.appendingPathComponent("\(i).png")) }
        let listing = FileManager.default.subpaths(atPath: data.path)?.sorted()

        unsetenv("SIMCLR_CACHE")
        XCTAssertEqual(DatasetSpec.defaultCacheDirectory.path,
                       FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-simclr").path)
        setenv("SIMCLR_CACHE", cache.path, 1)
        XCTAssertEqual(DatasetSpec.defaultCacheDirectory.path, cache.path)
        var settings = DatasetSettings(dataset: .folder)
        settings.dataDir = data.path
        let ds = try settings.open(.train, showProgress: false)
        XCTAssertEqual(ds.count, 3)
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.path)
        XCTAssertEqual(files.count, 1)
        XCTAssertTrue(files[0].hasPrefix("imagefolder-") && files[0].hasSuffix(".cache"), "\(files)")
        XCTAssertEqual(FileManager.default.subpaths(atPath: data.path)?.sorted(), listing, "the data folder is never written to")
    }
}
