// TrainConfig: every setting of a `simclr train` run in one Codable value, with the per-dataset
// defaults of the paper (Chen et al., ICML 2020, Appendix B.9 for CIFAR) and of the project's
// PyTorch quality reference (../shared/bench/torch_simclr_train.py).
//
// Resolution order (later wins): the dataset's defaults < the run folder's config.yaml (when
// resuming) < the `--config` YAML file < command-line flags. Every layer is a dictionary keyed by
// the snake_case names of `TrainConfig` (the same names as the flags, with `_` for `-`), so a
// config.yaml written by a run is itself a valid `--config` file. `validate()` checks every value
// before any work starts and names the flag in its error.

import Foundation
import Yams

/// A refused training setting; the message names the flag, the value and what is allowed.
public enum TrainConfigError: LocalizedError, Equatable {
    case invalid(flag: String, value: String, expected: String)
    case unknownKeys(file: String, keys: [String], known: [String])
    case unreadable(file: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .invalid(flag, value, expected):
            return "\(flag) \(value) is not allowed: expected \(expected)"
        case let .unknownKeys(file, keys, known):
            return "\(file): unknown key\(keys.count == 1 ? "" : "s") \(keys.joined(separator: ", ")); "
                + "allowed keys: \(known.joined(separator: ", "))"
        case let .unreadable(file, reason):
            return "\(file): \(reason)"
        }
    }
}

/// The resolved configuration of a training run (written to the run folder as config.yaml).
///
/// Defaults (see `defaults(dataset:)`):
/// - cifar10 / cifar100 / synthetic: 32 x 32, cifar stem, colour jitter s = 0.5, no blur, tau = 0.5,
///   SGD momentum 0.9, lr 0.12 x B / 256 (= the reference's 0.06 x B / 128), weight decay 5e-4 on all
///   parameters, per-step cosine to 0, no warmup.
/// - stl10 (96 x 96) / folder (224 x 224): imagenet stem, s = 1.0, blur on, tau = 0.1 (the paper's
///   ImageNet setting), LARS lr 0.3 x B / 256, weight decay 1e-6, 10 warmup epochs (capped at the run).
public struct TrainConfig: Codable, Equatable, Sendable {
    // MARK: Data
    /// cifar10, cifar100, stl10, folder or synthetic.
    public var dataset: String = "synthetic"
    /// Data folder ("" = $SIMCLR_DATA or ~/.cache/swift-simclr/data; folder: the image folder).
    public var dataDir: String = ""
    /// Download CIFAR / STL-10 when missing.
    public var download: Bool = false
    /// CIFAR-10: training batches held out as the "val" split.
    public var valBatches: [Int] = []
    /// Synthetic: images in the training split.
    public var syntheticCount: Int = 10_000
    /// Side of the training views (and of synthetic images).
    public var imageSize: Int = 32

    // MARK: Model
    /// resnet18, resnet34 or resnet50.
    public var arch: String = "resnet18"
    /// cifar (3x3 stride-1, no max-pool) or imagenet (7x7 stride-2 + max-pool).
    public var stem: String = "cifar"
    /// Channel multiplier of the encoder.
    public var width: Double = 1.0
    /// Linear layers of the projection head.
    public var headLayers: Int = 2
    /// Hidden width of the head (0: the encoder's feature dimension).
    public var headHidden: Int = 0
    /// Output dimension of the head (z).
    public var headOut: Int = 128
    /// BatchNorm1d after the head's hidden layers.
    public var headBn: Bool = false

    // MARK: Optimisation
    public var epochs: Int = 100
    /// Images per step (each gives `views` views).
    public var batchSize: Int = 256
    public var views: Int = 2
    /// sgd, lars, adam or adamw.
    public var optimizer: String = "sgd"
    /// Base learning rate, scaled by `lrScaling`.
    public var lr: Double = 0.12
    /// linear (lr x B / 256), sqrt (lr x sqrt(B)) or none.
    public var lrScaling: String = "linear"
    public var momentum: Double = 0.9
    public var weightDecay: Double = 5e-4
    public var warmupEpochs: Double = 0
    /// NT-Xent temperature tau.
    public var temperature: Double = 0.5

    // MARK: Augmentation
    /// Colour-jitter strength s.
    public var jitter: Double = 0.5
    public var blur: Bool = false
    /// Smallest crop area fraction of RandomResizedCrop (paper: 0.08).
    public var cropMin: Double = 0.08

    // MARK: Runtime
    public var seed: UInt64 = 0
    /// Compute threads (oneDNN, OpenBLAS); 0 = all cores.
    public var threads: Int = 0
    /// How 3x3 stride-1 convolutions run: auto (Winograd from 16 channels, for the input gradient
    /// from 32), direct or winograd (see `ConvolutionAlgorithm`).
    public var convAlgorithm: String = "auto"
    /// Augmentation worker threads of the loader.
    public var loaderThreads: Int = 1
    /// Batches prepared ahead.
    public var prefetch: Int = 2
    /// A metrics line every N steps (0: per epoch only).
    public var logInterval: Int = 50
    /// A checkpoint every K epochs (and always at the end).
    public var checkpointInterval: Int = 1
    /// Checkpoints kept in the run folder.
    public var keepCheckpoints: Int = 3
    /// kNN monitor every K epochs on the labelled evaluation split (0: off).
    public var knnInterval: Int = 0
    public var knnK: Int = 200
    public var knnTemperature: Double = 0.1

    public init() {}

    /// The defaults for `dataset` (unknown names get the CIFAR defaults; `validate` refuses them).
    public static func defaults(dataset: String) -> TrainConfig {
        var c = TrainConfig()
        c.dataset = dataset.lowercased()
        switch c.dataset {
        case "stl10", "folder":
            c.imageSize = c.dataset == "stl10" ? 96 : 224
            c.stem = "imagenet"
            c.jitter = 1.0
            c.blur = true
            c.temperature = 0.1
            c.optimizer = "lars"
            c.lr = 0.3
            c.weightDecay = 1e-6
            c.warmupEpochs = 10
        default:
            break
        }
        return c
    }

    // MARK: Layers

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    /// The configuration as a dictionary of snake_case keys (the layer format).
    public func dictionary() -> [String: Any] {
        let data = try! Self.encoder.encode(self)
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Every key a config file may hold.
    public static var keys: [String] { TrainConfig().dictionary().keys.sorted() }

    /// The flag that sets `key` ("batch_size" -> "--batch-size").
    public static func flag(_ key: String) -> String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// Parses a YAML mapping (a `--config` file or a run's config.yaml) into a layer; refuses
    /// unknown keys, naming the file.
    public static func layer(yaml text: String, file: String) throws -> [String: Any] {
        let object: Any?
        do {
            object = try Yams.load(yaml: text)
        } catch {
            throw TrainConfigError.unreadable(file: file, reason: "not valid YAML (\(error))")
        }
        guard let object else { return [:] }
        guard let map = object as? [String: Any] else {
            throw TrainConfigError.unreadable(file: file, reason: "expected a mapping of keys to values, such as 'epochs: 20'")
        }
        let known = Set(keys)
        let unknown = map.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty { throw TrainConfigError.unknownKeys(file: file, keys: unknown, known: keys) }
        return map
    }

    /// Reads a YAML layer from a file.
    public static func layer(contentsOf url: URL) throws -> [String: Any] {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw TrainConfigError.unreadable(file: url.path, reason: "cannot read the file (\(error.localizedDescription))")
        }
        return try layer(yaml: text, file: url.path)
    }

    /// Merges `layers` (later wins) over the defaults of the dataset they name, and decodes.
    /// A value of the wrong type throws, naming the flag.
    public static func resolve(_ layers: [[String: Any]]) throws -> TrainConfig {
        var dataset = "synthetic"
        for l in layers { if let d = l["dataset"] as? String { dataset = d } }
        var merged = defaults(dataset: dataset).dictionary()
        for l in layers { for (k, v) in l { merged[k] = v } }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        for (k, v) in merged {
            // Decode key by key first, so that a bad value is reported with its flag.
            var probe = defaults(dataset: dataset).dictionary()
            probe[k] = v
            guard JSONSerialization.isValidJSONObject(probe),
                  let data = try? JSONSerialization.data(withJSONObject: probe),
                  (try? decoder.decode(TrainConfig.self, from: data)) != nil
            else {
                throw TrainConfigError.invalid(flag: flag(k), value: "'\(v)'", expected: "a value of the type of \(k) (\(typeName(k)))")
            }
        }
        let data = try JSONSerialization.data(withJSONObject: merged)
        var config = try decoder.decode(TrainConfig.self, from: data)
        config.dataset = config.dataset.lowercased()
        return config
    }

    static func typeName(_ key: String) -> String {
        let camel = key.split(separator: "_").enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.capitalized }
            .joined()
        let value = Mirror(reflecting: TrainConfig()).children.first { $0.label == camel }?.value
        switch value {
        case is Bool: return "true or false"
        case is Double: return "a number"
        case is Int, is UInt64: return "an integer"
        case is String: return "a string"
        case is [Int]: return "a list of integers"
        default: return "see --help"
        }
    }

    /// The configuration as YAML (sorted keys), readable by `layer(yaml:file:)`.
    /// Values are written in JSON's flow syntax (a subset of YAML), one key per line.
    public func yaml() -> String {
        let d = dictionary()
        var out = "# swift-simclr training configuration (simclr train --config accepts this file)\n"
        for key in d.keys.sorted() {
            let data = try! JSONSerialization.data(withJSONObject: d[key]!, options: [.fragmentsAllowed])
            out += "\(key): \(String(decoding: data, as: UTF8.self))\n"
        }
        return out
    }

    // MARK: Derived values

    public var encoderConfig: ResNetConfig {
        ResNetConfig(depth: ResNetConfig.Depth(name: arch) ?? .resnet18, stem: ResNetConfig.Stem(rawValue: stem) ?? .cifar,
                     width: width)
    }

    public var headConfig: ProjectionHeadConfig {
        ProjectionHeadConfig(layers: headLayers, hiddenDim: headHidden > 0 ? headHidden : nil, outputDim: headOut,
                             batchNorm: headBn)
    }

    /// The view distribution: the dataset's preset with this run's size, views, jitter and blur.
    public var augmentation: AugmentationConfig {
        var a: AugmentationConfig
        switch dataset {
        case "stl10": a = .stl10(size: imageSize, views: views)
        case "folder": a = .folders(size: imageSize, views: views)
        default: a = .cifar(size: imageSize, views: views)
        }
        a.jitterStrength = Float(jitter)
        a.blur = blur
        a.scale = cropMin...1.0
        return a
    }

    public var optimizerSettings: OptimizerSettings {
        OptimizerSettings(momentum: Float(momentum), weightDecay: Float(weightDecay))
    }

    /// The dataset spec of `split` ("train", "val", "test").
    public func datasetSpec(split: String, showProgress: Bool = true) throws -> DatasetSpec {
        var s = DatasetSpec(name: try DatasetSpec.parseName(dataset),
                            dataDirectory: dataDir.isEmpty ? nil : URL(fileURLWithPath: dataDir), split: split)
        s.validationBatches = valBatches
        s.syntheticCount = split == "train" ? syntheticCount : max(1000, syntheticCount / 5)
        s.syntheticResolution = imageSize
        s.download = download
        s.showProgress = showProgress
        if s.name == .folder, !dataDir.isEmpty {
            s.cacheDirectory = URL(fileURLWithPath: dataDir).appendingPathComponent(".simclr-cache")
        }
        return s
    }

    /// The labelled split that kNN / linear evaluation reports on (nil: the dataset has none):
    /// cifar10 "val" with --val-batches, else "test"; cifar100 and stl10 "test"; synthetic "val".
    public var evaluationSplit: String? {
        switch dataset {
        case "cifar10": return valBatches.isEmpty ? "test" : "val"
        case "cifar100", "stl10": return "test"
        case "synthetic": return "val"
        default: return nil
        }
    }

    /// The fields that fix the network's tensors: a checkpoint must agree on them to be resumed.
    public var architectureKeys: [String] { ["arch", "stem", "width", "head_layers", "head_hidden", "head_out", "head_bn"] }

    // MARK: Validation

    /// Checks every value; throws `TrainConfigError.invalid` naming the first bad flag.
    public func validate() throws {
        func bad(_ key: String, _ value: Any, _ expected: String) -> TrainConfigError {
            .invalid(flag: Self.flag(key), value: "\(value)", expected: expected)
        }
        guard DatasetSpec.Name(rawValue: dataset) != nil else {
            throw bad("dataset", dataset, "one of " + DatasetSpec.Name.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if dataset == "folder" && dataDir.isEmpty { throw bad("data_dir", "(none)", "the image folder for --dataset folder") }
        if !valBatches.isEmpty {
            guard dataset == "cifar10" else { throw bad("val_batches", valBatches, "no value: only cifar10 has training batches to hold out") }
            guard valBatches.allSatisfy({ (1...5).contains($0) }), Set(valBatches).count == valBatches.count, valBatches.count < 5 else {
                throw bad("val_batches", valBatches, "distinct batch numbers in 1...5, at most 4 of them")
            }
        }
        guard syntheticCount >= 1 else { throw bad("synthetic_count", syntheticCount, "an integer >= 1") }
        guard imageSize >= 8 && imageSize <= 1024 else { throw bad("image_size", imageSize, "a side in 8...1024 pixels") }
        guard ResNetConfig.Depth(name: arch) != nil else { throw bad("arch", arch, "resnet18, resnet34 or resnet50") }
        guard ResNetConfig.Stem(rawValue: stem) != nil else { throw bad("stem", stem, "cifar or imagenet") }
        guard width > 0 && width.isFinite && width <= 16 else { throw bad("width", width, "a multiplier > 0 (and <= 16)") }
        guard headLayers >= 1 else { throw bad("head_layers", headLayers, "an integer >= 1") }
        guard headHidden >= 0 else { throw bad("head_hidden", headHidden, "an integer >= 1, or 0 for the encoder's dimension") }
        guard headOut >= 1 else { throw bad("head_out", headOut, "an integer >= 1") }
        guard epochs >= 1 else { throw bad("epochs", epochs, "an integer >= 1") }
        guard batchSize >= 2 else { throw bad("batch_size", batchSize, "an integer >= 2 (NT-Xent needs negatives)") }
        guard views >= 2 else { throw bad("views", views, "an integer >= 2") }
        guard (try? OptimizerKind(parsing: optimizer)) != nil else {
            throw bad("optimizer", optimizer, OptimizerKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard lr > 0 && lr.isFinite else { throw bad("lr", lr, "a finite number > 0") }
        guard LearningRateSchedule.Scaling(rawValue: lrScaling) != nil else { throw bad("lr_scaling", lrScaling, "linear, sqrt or none") }
        guard momentum >= 0 && momentum < 1 else { throw bad("momentum", momentum, "a number in [0, 1)") }
        guard weightDecay >= 0 && weightDecay.isFinite else { throw bad("weight_decay", weightDecay, "a number >= 0") }
        guard warmupEpochs >= 0 && warmupEpochs <= Double(epochs) else {
            throw bad("warmup_epochs", warmupEpochs, "a number in 0...\(epochs) (--epochs)")
        }
        guard temperature > 0 && temperature.isFinite else { throw bad("temperature", temperature, "a number > 0") }
        guard jitter >= 0 && jitter <= 2.5 else { throw bad("jitter", jitter, "a strength s in [0, 2.5]") }
        guard cropMin > 0 && cropMin <= 1 else { throw bad("crop_min", cropMin, "an area fraction in (0, 1]") }
        guard threads >= 0 else { throw bad("threads", threads, "an integer >= 0 (0: all cores)") }
        guard ConvolutionAlgorithm(rawValue: convAlgorithm) != nil else {
            throw bad("conv_algorithm", convAlgorithm, "auto, direct or winograd")
        }
        guard loaderThreads >= 1 else { throw bad("loader_threads", loaderThreads, "an integer >= 1") }
        guard prefetch >= 1 else { throw bad("prefetch", prefetch, "an integer >= 1") }
        guard logInterval >= 0 else { throw bad("log_interval", logInterval, "an integer >= 0 (0: per epoch only)") }
        guard checkpointInterval >= 1 else { throw bad("checkpoint_interval", checkpointInterval, "an integer >= 1 (epochs)") }
        guard keepCheckpoints >= 1 else { throw bad("keep_checkpoints", keepCheckpoints, "an integer >= 1") }
        guard knnInterval >= 0 else { throw bad("knn_interval", knnInterval, "an integer >= 0 (0: off)") }
        if knnInterval > 0 && evaluationSplit == nil {
            throw bad("knn_interval", knnInterval, "0: dataset \(dataset) has no labelled evaluation split")
        }
        guard knnK >= 1 else { throw bad("knn_k", knnK, "an integer >= 1") }
        guard knnTemperature > 0 else { throw bad("knn_temperature", knnTemperature, "a number > 0") }
    }
}
