// TrainConfig: every setting of a `simclr train` run in one typed value, in five sections (data,
// model, optimization, augmentation, runtime), with the per-dataset defaults of `DatasetRecipe`.
//
// Resolution order (later wins): the dataset's defaults < the run folder's config.yaml (when
// resuming) < the `--config` YAML file < command-line flags (`TrainConfig+Layers.swift`). Every
// layer is a flat dictionary keyed by snake_case setting names (the flag names with `_` for `-`),
// so a config.yaml written by a run is itself a valid `--config` file. `validate()` checks every
// value before any work starts (`TrainConfig+Validation.swift`).
import Foundation

/// The resolved configuration of a training run (written to the run folder as config.yaml).
public struct TrainConfig: Codable, Equatable, Sendable {
    public var data = DatasetSettings()
    public var model = ModelSettings()
    public var optimization = OptimizationSettings()
    public var augment = AugmentSettings()
    public var runtime = RuntimeSettings()

    public init() {}

    /// The defaults for `dataset` (see `DatasetRecipe`).
    public static func defaults(for dataset: DatasetSpec.Name) -> TrainConfig {
        let r = DatasetRecipe.of(dataset)
        var c = TrainConfig()
        c.data = DatasetSettings(dataset: dataset)
        c.model.stem = r.stem
        c.optimization.optimizer = r.optimizer
        c.optimization.lr = r.lr
        c.optimization.weightDecay = r.weightDecay
        c.optimization.warmupEpochs = r.warmupEpochs
        c.optimization.temperature = r.temperature
        c.augment.jitter = r.jitter
        c.augment.blur = r.blur
        return c
    }

    // The sections share one flat key space: each decodes and encodes its own keys.
    public init(from decoder: Decoder) throws {
        data = try DatasetSettings(from: decoder)
        model = try ModelSettings(from: decoder)
        optimization = try OptimizationSettings(from: decoder)
        augment = try AugmentSettings(from: decoder)
        runtime = try RuntimeSettings(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try data.encode(to: encoder)
        try model.encode(to: encoder)
        try optimization.encode(to: encoder)
        try augment.encode(to: encoder)
        try runtime.encode(to: encoder)
    }
}

/// The encoder f and the projection head g.
public struct ModelSettings: Codable, Equatable, Sendable {
    public var arch: Architecture = .resnet18
    /// cifar (3x3 stride-1, no max-pool) or imagenet (7x7 stride-2 + max-pool).
    public var stem: ResNetConfig.Stem = .cifar
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

    enum CodingKeys: String, CodingKey {
        case arch, stem, width
        case headLayers = "head_layers", headHidden = "head_hidden", headOut = "head_out", headBn = "head_bn"
    }

    public init() {}
}

/// Schedule, optimizer and loss.
public struct OptimizationSettings: Codable, Equatable, Sendable {
    public var epochs: Int = 100
    /// Images per step (each gives `views` views).
    public var batchSize: Int = 256
    public var views: Int = 2
    public var optimizer: OptimizerKind = .sgd
    /// Base learning rate, scaled by `lrScaling`.
    public var lr: Double = 0.12
    /// linear (lr x B / 256), sqrt (lr x sqrt(B)) or none.
    public var lrScaling: LearningRateSchedule.Scaling = .linear
    public var momentum: Double = 0.9
    public var weightDecay: Double = 5e-4
    /// Linear warmup epochs before the cosine decay.
    public var warmupEpochs: Double = 0
    /// NT-Xent temperature tau.
    public var temperature: Double = 0.5

    enum CodingKeys: String, CodingKey {
        case epochs, views, optimizer, lr, momentum, temperature
        case batchSize = "batch_size", lrScaling = "lr_scaling", weightDecay = "weight_decay", warmupEpochs = "warmup_epochs"
    }

    public init() {}
}

/// The view distribution's knobs that runs change (the rest comes from the dataset's preset).
public struct AugmentSettings: Codable, Equatable, Sendable {
    /// Colour-jitter strength s.
    public var jitter: Double = 0.5
    public var blur: Bool = false
    /// Smallest crop area fraction of RandomResizedCrop (paper: 0.08).
    public var cropMin: Double = 0.08

    enum CodingKeys: String, CodingKey {
        case jitter, blur
        case cropMin = "crop_min"
    }

    public init() {}
}

/// Seeds, threads, logging, checkpoints and the kNN monitor.
public struct RuntimeSettings: Codable, Equatable, Sendable {
    public var seed: UInt64 = 0
    /// Compute threads (oneDNN, OpenBLAS); 0 = all cores.
    public var threads: Int = 0
    /// How 3x3 stride-1 convolutions run (see `ConvolutionAlgorithm`).
    public var convAlgorithm: ConvolutionAlgorithm = .auto
    /// Augmentation worker threads of the loader.
    public var loaderThreads: Int = 1
    /// Batches prepared ahead.
    public var prefetch: Int = 2
    /// A metrics line every N steps (0: per epoch only).
    public var logInterval: Int = 50
    /// A checkpoint every K epochs (and always at the end).
    public var checkpointInterval: Int = 1
    /// Also a checkpoint every K steps, inside epochs too (0: off).
    public var checkpointSteps: Int = 0
    /// Checkpoints kept in the run folder.
    public var keepCheckpoints: Int = 3
    /// kNN monitor every K epochs on the labelled evaluation split (0: off).
    public var knnInterval: Int = 0
    public var knnK: Int = 200
    public var knnTemperature: Double = 0.1

    enum CodingKeys: String, CodingKey {
        case seed, threads, prefetch
        case convAlgorithm = "conv_algorithm", loaderThreads = "loader_threads", logInterval = "log_interval"
        case checkpointInterval = "checkpoint_interval", checkpointSteps = "checkpoint_steps", keepCheckpoints = "keep_checkpoints", knnInterval = "knn_interval"
        case knnK = "knn_k", knnTemperature = "knn_temperature"
    }

    public init() {}
}
