// TrainConfig: per-dataset defaults, layering (defaults < files < flags), YAML round trip, and
// every refusal naming its flag.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class TrainConfigTests: XCTestCase {
    func testPerDatasetDefaultsFollowThePaper() {
        for name in ["cifar10", "cifar100", "synthetic"] {
            let c = TrainConfig.defaults(dataset: name)
            XCTAssertEqual(c.stem, "cifar", name)
            XCTAssertEqual(c.jitter, 0.5, name)
            XCTAssertFalse(c.blur, name)
            XCTAssertEqual(c.temperature, 0.5, name)
            XCTAssertEqual(c.imageSize, 32, name)
            // The reference recipe: SGD, 0.06 x B / 128 = 0.12 at B 256, wd 5e-4, no warmup.
            XCTAssertEqual(c.optimizer, "sgd")
            XCTAssertEqual(Double(try! LearningRateSchedule(baseLearningRate: Float(c.lr), scaling: .linear, batchSize: 256,
                                                            totalSteps: 10).peakLearningRate), 0.12, accuracy: 1e-7)
            XCTAssertEqual(c.weightDecay, 5e-4)
            XCTAssertEqual(c.warmupEpochs, 0)
        }
        for (name, size) in [("stl10", 96), ("folder", 224)] {
            let c = TrainConfig.defaults(dataset: name)
            XCTAssertEqual(c.stem, "imagenet", name)
            XCTAssertTrue(c.blur, name)
            XCTAssertEqual(c.jitter, 1.0, name)
            XCTAssertEqual(c.imageSize, size, name)
            XCTAssertTrue(c.augmentation.blur)
            XCTAssertEqual(c.augmentation.scale, 0.08...1.0)
        }
        XCTAssertEqual(TrainConfig.defaults(dataset: "cifar10").augmentation, AugmentationConfig.cifar(size: 32, views: 2))
    }

    func testLaterLayersWinAndTheDatasetPicksTheDefaults() throws {
        let file = try TrainConfig.layer(yaml: "dataset: stl10\nepochs: 7\nbatch_size: 64\nblur: false\n", file: "run.yaml")
        let c = try TrainConfig.resolve([file, ["batch_size": 32, "lr": 0.5]])
        XCTAssertEqual(c.dataset, "stl10")
        XCTAssertEqual(c.epochs, 7)          // file
        XCTAssertEqual(c.batchSize, 32)      // flag over file
        XCTAssertEqual(c.lr, 0.5)            // flag
        XCTAssertFalse(c.blur)               // file over the stl10 default
        XCTAssertEqual(c.stem, "imagenet")   // stl10 default
        XCTAssertEqual(c.imageSize, 96)
    }

    func testYAMLRoundTrip() throws {
        var c = TrainConfig.defaults(dataset: "cifar10")
        c.valBatches = [5]
        c.width = 0.25
        c.seed = 12345678901
        c.headBn = true
        c.cropMin = 0.2
        c.dataDir = "/data/with \"quotes\": and colons"
        let back = try TrainConfig.resolve([try TrainConfig.layer(yaml: c.yaml(), file: "config.yaml")])
        XCTAssertEqual(back, c)
    }

    func testUnknownKeysAndBadTypesAreRefusedByName() throws {
        XCTAssertThrowsError(try TrainConfig.layer(yaml: "epochs: 3\nbatchsize: 64\n", file: "run.yaml")) { error in
            let m = error.localizedDescription
            XCTAssertTrue(m.contains("run.yaml") && m.contains("batchsize") && m.contains("batch_size"), m)
        }
        XCTAssertThrowsError(try TrainConfig.layer(yaml: "- 1\n- 2\n", file: "list.yaml")) { error in
            XCTAssertTrue(error.localizedDescription.contains("list.yaml"), error.localizedDescription)
        }
        XCTAssertThrowsError(try TrainConfig.resolve([["epochs": "many"]])) { error in
            let m = error.localizedDescription
            XCTAssertTrue(m.contains("--epochs") && m.contains("many") && m.contains("integer"), m)
        }
    }

    func testEveryRefusalNamesItsFlagAndValue() throws {
        let cases: [(String, Any, String)] = [
            ("epochs", 0, "--epochs"), ("batch_size", 1, "--batch-size"), ("temperature", 0.0, "--temperature"),
            ("temperature", -0.5, "--temperature"), ("views", 1, "--views"), ("width", 0.0, "--width"),
            ("arch", "resnet99", "--arch"), ("stem", "tiny", "--stem"), ("optimizer", "rmsprop", "--optimizer"),
            ("lr", 0.0, "--lr"), ("lr_scaling", "cubic", "--lr-scaling"), ("weight_decay", -1.0, "--weight-decay"),
            ("warmup_epochs", 200.0, "--warmup-epochs"), ("momentum", 1.0, "--momentum"), ("jitter", 3.0, "--jitter"), ("crop_min", 0.0, "--crop-min"), ("crop_min", 1.5, "--crop-min"),
            ("head_layers", 0, "--head-layers"), ("head_out", 0, "--head-out"), ("threads", -1, "--threads"),
            ("loader_threads", 0, "--loader-threads"), ("prefetch", 0, "--prefetch"), ("log_interval", -1, "--log-interval"),
            ("checkpoint_interval", 0, "--checkpoint-interval"), ("keep_checkpoints", 0, "--keep-checkpoints"),
            ("knn_interval", -1, "--knn-interval"), ("knn_k", 0, "--knn-k"), ("image_size", 4, "--image-size"),
            ("synthetic_count", 0, "--synthetic-count"), ("dataset", "imagenet", "--dataset"),
            ("val_batches", [5], "--val-batches"),  // synthetic has no batches
        ]
        for (key, value, flag) in cases {
            let c = try TrainConfig.resolve([[key: value]])
            XCTAssertThrowsError(try c.validate(), "\(key) = \(value)") { error in
                let m = error.localizedDescription
                XCTAssertTrue(m.hasPrefix(flag + " "), "\(key): '\(m)' should start with \(flag)")
                XCTAssertTrue(m.contains("expected"), m)
            }
        }
        XCTAssertThrowsError(try TrainConfig.resolve([["dataset": "cifar10", "val_batches": [6]]]).validate())
        XCTAssertThrowsError(try TrainConfig.resolve([["dataset": "folder"]]).validate()) { error in
            XCTAssertTrue(error.localizedDescription.contains("--data-dir"), error.localizedDescription)
        }
        XCTAssertNoThrow(try TrainConfig.resolve([["dataset": "cifar10", "val_batches": [5]]]).validate())
        XCTAssertNoThrow(try TrainConfig().validate())
    }

    func testEvaluationSplits() throws {
        var c = TrainConfig.defaults(dataset: "cifar10")
        XCTAssertEqual(c.evaluationSplit, "test")
        c.valBatches = [5]
        XCTAssertEqual(c.evaluationSplit, "val")
        XCTAssertEqual(TrainConfig.defaults(dataset: "synthetic").evaluationSplit, "val")
        XCTAssertEqual(TrainConfig.defaults(dataset: "stl10").evaluationSplit, "test")
        XCTAssertNil(TrainConfig.defaults(dataset: "folder").evaluationSplit)
    }
}
