// TrainConfig: per-dataset defaults, layering (defaults < files < flags), YAML round trip, and
// every refusal naming its flag, or its file and key.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class TrainConfigTests: XCTestCase {
    func flags(_ values: [String: Any]) -> ConfigLayer { ConfigLayer(values, from: .flags) }

    func testPerDatasetDefaultsFollowThePaper() throws {
        for name in [DatasetSpec.Name.cifar10, .cifar100, .synthetic] {
            let c = TrainConfig.defaults(for: name)
            XCTAssertEqual(c.model.stem, .cifar, name.rawValue)
            XCTAssertEqual(c.augment.jitter, 0.5, name.rawValue)
            XCTAssertFalse(c.augment.blur, name.rawValue)
            XCTAssertEqual(c.optimization.temperature, 0.5, name.rawValue)
            XCTAssertEqual(c.data.imageSize, 32, name.rawValue)
            // The reference recipe: SGD, 0.06 x B / 128 = 0.12 at B 256, wd 5e-4, no warmup.
            XCTAssertEqual(c.optimization.optimizer, .sgd)
            XCTAssertEqual(Double(try c.schedule(stepsPerEpoch: 10).peakLearningRate), 0.12 * 256 / 256, accuracy: 1e-7)
            XCTAssertEqual(c.optimization.weightDecay, 5e-4)
            XCTAssertEqual(c.optimization.warmupEpochs, 0)
        }
        for (name, size) in [(DatasetSpec.Name.stl10, 96), (.folder, 224)] {
            let c = TrainConfig.defaults(for: name)
            XCTAssertEqual(c.model.stem, .imagenet, name.rawValue)
            XCTAssertTrue(c.augment.blur, name.rawValue)
            XCTAssertEqual(c.augment.jitter, 1.0, name.rawValue)
            XCTAssertEqual(c.data.imageSize, size, name.rawValue)
            XCTAssertEqual(c.optimization.optimizer, .lars)
            XCTAssertEqual(c.optimization.warmupEpochs, 10)
            XCTAssertTrue(c.augmentation.blur)
            XCTAssertEqual(c.augmentation.scale, 0.08...1.0)
        }
        XCTAssertEqual(TrainConfig.defaults(for: .cifar10).augmentation, AugmentationConfig.cifar(size: 32, views: 2))
    }

    /// The README's defaults table is the one the code uses.
    func testReadmeShowsTheDefaultsTable() throws {
        let readme = try String(contentsOf: Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains(DatasetRecipe.markdownTable), "README.md must contain:\n\(DatasetRecipe.markdownTable)")
        for r in DatasetRecipe.all {
            XCTAssertTrue(DatasetRecipe.helpTable.contains(r.dataset.rawValue))
        }
    }

    func testLaterLayersWinAndTheDatasetPicksTheDefaults() throws {
        let file = try ConfigLayer(yaml: "dataset: stl10\nepochs: 7\nbatch_size: 64\nblur: false\n", file: "run.yaml",
                                   known: TrainConfig.keys)
        let c = try TrainConfig.resolve([file, flags(["batch_size": 32, "lr": 0.5])])
        XCTAssertEqual(c.data.dataset, .stl10)
        XCTAssertEqual(c.optimization.epochs, 7)          // file
        XCTAssertEqual(c.optimization.batchSize, 32)      // flag over file
        XCTAssertEqual(c.optimization.lr, 0.5)            // flag
        XCTAssertFalse(c.augment.blur)                    // file over the stl10 default
        XCTAssertEqual(c.model.stem, .imagenet)           // stl10 default
        XCTAssertEqual(c.data.imageSize, 96)
        XCTAssertEqual(c.optimization.warmupEpochs, 7, "the recipe's 10 warmup epochs are capped at the run's 7")
    }

    /// A derived default never refuses a short run; a value the user typed does.
    func testWarmupDefaultIsDerivedFromTheEpochs() throws {
        for name in DatasetSpec.Name.allCases {
            var layer: [String: Any] = ["dataset": name.rawValue, "epochs": 1]
            if name == .folder { layer["data_dir"] = "/some/folder" }
            let c = try TrainConfig.resolve([flags(layer)])
            XCTAssertLessThanOrEqual(c.optimization.warmupEpochs, 1, name.rawValue)
        }
        XCTAssertThrowsError(try TrainConfig.resolve([flags(["dataset": "stl10", "epochs": 1, "warmup_epochs": 10.0])])) { error in
            XCTAssertTrue(error.localizedDescription.hasPrefix("--warmup-epochs 10.0 is not allowed"), error.localizedDescription)
        }
    }

    func testYAMLRoundTrip() throws {
        var c = TrainConfig.defaults(for: .cifar10)
        c.data.valBatches = [5]
        c.model.width = 0.25
        c.runtime.seed = 12345678901
        c.model.headBn = true
        c.augment.cropMin = 0.2
        c.optimization.weightDecay = 1e-6
        c.optimization.lr = 0.075
        c.runtime.convAlgorithm = .direct
        c.data.dataDir = "/data/with \"quotes\": and colons # and a hash"
        let yaml = try c.yaml()
        let back = try TrainConfig.resolve([try ConfigLayer(yaml: yaml, file: "config.yaml", known: TrainConfig.keys)])
        XCTAssertEqual(back, c, yaml)
        XCTAssertTrue(yaml.contains("conv_algorithm: direct"), yaml)
        XCTAssertEqual(Set(TrainConfig.keys), Set(c.dictionary().keys))
    }

    func testEveryKeyHasAnExpectation() {
        for key in TrainConfig.keys {
            XCTAssertNotEqual(TrainConfig.expectation(key), "see --help", key)
        }
        XCTAssertEqual(TrainConfig.expectation("arch"), "resnet18, resnet34 or resnet50")
        XCTAssertEqual(TrainConfig.expectation("blur"), "true or false")
    }

    func testUnknownKeysAndBadTypesAreRefusedByName() throws {
        XCTAssertThrowsError(try ConfigLayer(yaml: "epochs: 3\nbatchsize: 64\n", file: "run.yaml", known: TrainConfig.keys)) { error in
            let m = error.localizedDescription
            XCTAssertTrue(m.contains("run.yaml") && m.contains("batchsize") && m.contains("batch_size"), m)
        }
        XCTAssertThrowsError(try ConfigLayer(yaml: "- 1\n- 2\n", file: "list.yaml", known: TrainConfig.keys)) { error in
            XCTAssertTrue(error.localizedDescription.contains("list.yaml"), error.localizedDescription)
        }
        XCTAssertThrowsError(try TrainConfig.resolve([flags(["epochs": "many"])])) { error in
            let m = error.localizedDescription
            XCTAssertTrue(m.contains("--epochs") && m.contains("many") && m.contains("integer"), m)
        }
    }

    /// A bad value in a file is reported as the file, the key and the value, not as a flag.
    func testBadValuesInAFileNameTheFileAndKey() throws {
        let cases: [(String, String)] = [
            ("blur: fa\n", "run.yaml: blur: 'fa' is not allowed, expected true or false"),
            ("temperature: null\n", "run.yaml: temperature: null is not allowed, expected a number"),
            ("arch: resnet99\n", "run.yaml: arch: 'resnet99' is not allowed, expected resnet18, resnet34 or resnet50"),
            ("epochs: 0\n", "run.yaml: epochs: 0 is not allowed, expected an integer >= 1"),
            ("dataset: imagenet\n", "run.yaml: dataset: 'imagenet' is not allowed, expected cifar10, cifar100, stl10, folder or synthetic"),
            // Found by ReaderFuzzTests: a fraction for an integer key (Foundation's decoder names no key).
            ("head_out: 5e-1\n", "run.yaml: head_out: 0.5 is not allowed, expected an integer"),
        ]
        for (yaml, message) in cases {
            let layer = try ConfigLayer(yaml: yaml, file: "run.yaml", known: TrainConfig.keys)
            XCTAssertThrowsError(try TrainConfig.resolve([layer]), yaml) { error in
                XCTAssertEqual(error.localizedDescription, message)
            }
        }
        // The same key typed as a flag over the file is reported as the flag.
        let layer = try ConfigLayer(yaml: "epochs: 5\n", file: "run.yaml", known: TrainConfig.keys)
        XCTAssertThrowsError(try TrainConfig.resolve([layer, flags(["epochs": 0])])) { error in
            XCTAssertEqual(error.localizedDescription, "--epochs 0 is not allowed: expected an integer >= 1")
        }
    }

    func testEveryRefusalNamesItsFlagAndValue() throws {
        let cases: [(String, Any, String)] = [
            ("epochs", 0, "--epochs"), ("batch_size", 1, "--batch-size"), ("temperature", 0.0, "--temperature"),
            ("temperature", -0.5, "--temperature"), ("views", 1, "--views"), ("width", 0.0, "--width"),
            ("arch", "resnet99", "--arch"), ("stem", "tiny", "--stem"), ("optimizer", "rmsprop", "--optimizer"),
            ("lr", 0.0, "--lr"), ("lr_scaling", "cubic", "--lr-scaling"), ("weight_decay", -1.0, "--weight-decay"),
            ("warmup_epochs", 200.0, "--warmup-epochs"), ("momentum", 1.0, "--momentum"), ("jitter", 3.0, "--jitter"),
            ("crop_min", 0.0, "--crop-min"), ("crop_min", 1.5, "--crop-min"), ("conv_algorithm", "fft", "--conv-algorithm"),
            ("head_layers", 0, "--head-layers"), ("head_out", 0, "--head-out"), ("threads", -1, "--threads"),
            ("loader_threads", 0, "--loader-threads"), ("prefetch", 0, "--prefetch"), ("log_interval", -1, "--log-interval"),
            ("checkpoint_interval", 0, "--checkpoint-interval"), ("keep_checkpoints", 0, "--keep-checkpoints"),
            ("knn_interval", -1, "--knn-interval"), ("knn_k", 0, "--knn-k"), ("image_size", 4, "--image-size"),
            ("synthetic_count", 0, "--synthetic-count"), ("dataset", "imagenet", "--dataset"),
            ("on_bad_image", "ignore", "--on-bad-image"),
            ("val_batches", [5], "--val-batches"),  // synthetic has no batches
            ("knn_interval", 1, "--knn-interval"),  // folder: no labelled evaluation split
        ]
        for (key, value, flag) in cases {
            var layer: [String: Any] = [key: value]
            if key == "knn_interval" && value as? Int == 1 { layer["dataset"] = "folder"; layer["data_dir"] = "/x" }
            XCTAssertThrowsError(try TrainConfig.resolve([flags(layer)]), "\(key) = \(value)") { error in
                let m = error.localizedDescription
                XCTAssertTrue(m.hasPrefix(flag + " "), "\(key): '\(m)' should start with \(flag)")
                XCTAssertTrue(m.contains("expected"), m)
            }
        }
        XCTAssertThrowsError(try TrainConfig.resolve([flags(["dataset": "cifar10", "val_batches": [6]])]))
        XCTAssertThrowsError(try TrainConfig.resolve([flags(["dataset": "folder"])])) { error in
            XCTAssertTrue(error.localizedDescription.contains("--data-dir"), error.localizedDescription)
        }
        XCTAssertNoThrow(try TrainConfig.resolve([flags(["dataset": "cifar10", "val_batches": [5]])]))
        XCTAssertNoThrow(try TrainConfig().validate())
    }

    func testEvaluationSplits() throws {
        var c = TrainConfig.defaults(for: .cifar10)
        XCTAssertEqual(c.data.evaluationSplit, .test)
        c.data.valBatches = [5]
        XCTAssertEqual(c.data.evaluationSplit, .validation)
        XCTAssertEqual(TrainConfig.defaults(for: .synthetic).data.evaluationSplit, .validation)
        XCTAssertEqual(TrainConfig.defaults(for: .stl10).data.evaluationSplit, .test)
        XCTAssertNil(TrainConfig.defaults(for: .folder).data.evaluationSplit)
    }

    func testSplitsParseAndPrintTheSameText() throws {
        for text in ["train", "val", "test", "unlabeled", "train+unlabeled", "batches:1,3"] {
            XCTAssertEqual(try DatasetSplit(parsing: text).description, text)
        }
        XCTAssertEqual(try DatasetSplit(parsing: "Validation"), .validation)
        for bad in ["", "trian", "batches:", "batches:0", "batches:1,x"] {
            XCTAssertThrowsError(try DatasetSplit(parsing: bad), bad)
        }
    }

    /// The one place dataset settings become a reader's spec.
    func testDatasetSettingsMakeTheSpec() throws {
        var d = DatasetSettings(dataset: .synthetic)
        d.syntheticCount = 20_000
        XCTAssertEqual(d.spec(split: .train).syntheticCount, 20_000)
        XCTAssertEqual(d.spec(split: .validation).syntheticCount, 4_000)
        d.syntheticCount = 100
        XCTAssertEqual(d.spec(split: .test).syntheticCount, 1_000)
        var f = DatasetSettings(dataset: .folder)
        f.dataDir = "/photos"
        f.onBadImage = .fail
        // The cache goes to $SIMCLR_CACHE, else ~/.cache/swift-simclr: never into the data folder.
        XCTAssertEqual(f.spec(split: .train).cacheDirectory, DatasetSpec.defaultCacheDirectory)
        XCTAssertFalse(DatasetSpec.defaultCacheDirectory.path.hasPrefix("/photos"))
        XCTAssertEqual(f.spec(split: .train).onBadImage, .fail)
        f.cacheDir = "/cache"
        XCTAssertEqual(f.spec(split: .train).cacheDirectory?.path, "/cache")
        XCTAssertEqual(try DatasetSettings.resolve([flags(["dataset": "stl10"])]).imageSize, 96)
        XCTAssertThrowsError(try DatasetSettings.resolve([flags(["dataset": "folder"])])) { error in
            XCTAssertTrue(error.localizedDescription.hasPrefix("--data-dir"), error.localizedDescription)
        }
    }
}
