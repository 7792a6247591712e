// The range checks of every setting, run before any work starts. Names (enums) are already
// checked by decoding; these are the rules between values.
import Foundation

extension TrainConfig {
    /// Checks every value; throws `TrainConfigError.invalid` naming the first bad setting where
    /// `origins` says it came from (the flags, for values set in code).
    public func validate(_ origins: ConfigOrigins = .code) throws {
        try data.validate(origins)
        try model.validate(origins)
        try optimization.validate(origins)
        try augment.validate(origins)
        try runtime.validate(origins)
        if runtime.knnInterval > 0 && data.evaluationSplit == nil {
            throw origins.refusal("knn_interval", runtime.knnInterval,
                                  "0: dataset \(data.dataset.rawValue) has no labelled evaluation split (give it one with \(data.heldOutFlags))")
        }
    }

    /// The fields that fix the network's tensors: a checkpoint must agree on them to be resumed.
    public static let architectureKeys = ["arch", "stem", "width", "head_layers", "head_hidden", "head_out", "head_bn"]
}

extension ModelSettings {
    func validate(_ origins: ConfigOrigins) throws {
        let bad = origins.refusal
        guard width > 0 && width.isFinite && width <= 16 else { throw bad("width", width, "a multiplier > 0 (and <= 16)") }
        guard headLayers >= 1 else { throw bad("head_layers", headLayers, "an integer >= 1") }
        guard headHidden >= 0 else { throw bad("head_hidden", headHidden, "an integer >= 1, or 0 for the encoder's dimension") }
        guard headOut >= 1 else { throw bad("head_out", headOut, "an integer >= 1") }
    }
}

extension OptimizationSettings {
    func validate(_ origins: ConfigOrigins) throws {
        let bad = origins.refusal
        guard epochs >= 1 else { throw bad("epochs", epochs, "an integer >= 1") }
        guard batchSize >= 2 else { throw bad("batch_size", batchSize, "an integer >= 2 (NT-Xent needs negatives)") }
        guard views >= 2 else { throw bad("views", views, "an integer >= 2") }
        guard lr > 0 && lr.isFinite else { throw bad("lr", lr, "a finite number > 0") }
        guard momentum >= 0 && momentum < 1 else { throw bad("momentum", momentum, "a number in [0, 1)") }
        guard weightDecay >= 0 && weightDecay.isFinite else { throw bad("weight_decay", weightDecay, "a number >= 0") }
        guard warmupEpochs >= 0 && warmupEpochs <= Double(epochs) else {
            throw bad("warmup_epochs", warmupEpochs, "a number in 0...\(epochs) (--epochs)")
        }
        guard temperature > 0 && temperature.isFinite else { throw bad("temperature", temperature, "a number > 0") }
    }
}

extension AugmentSettings {
    func validate(_ origins: ConfigOrigins) throws {
        let bad = origins.refusal
        guard jitter >= 0 && jitter <= 2.5 else { throw bad("jitter", jitter, "a strength s in [0, 2.5]") }
        guard cropMin > 0 && cropMin <= 1 else { throw bad("crop_min", cropMin, "an area fraction in (0, 1]") }
    }
}

extension RuntimeSettings {
    func validate(_ origins: ConfigOrigins) throws {
        let bad = origins.refusal
        guard threads >= 0 else { throw bad("threads", threads, "an integer >= 0 (0: all cores)") }
        guard loaderThreads >= 1 else { throw bad("loader_threads", loaderThreads, "an integer >= 1") }
        guard prefetch >= 1 else { throw bad("prefetch", prefetch, "an integer >= 1") }
        guard logInterval >= 0 else { throw bad("log_interval", logInterval, "an integer >= 0 (0: per epoch only)") }
        guard checkpointInterval >= 1 else { throw bad("checkpoint_interval", checkpointInterval, "an integer >= 1 (epochs)") }
        guard checkpointSteps >= 0 else { throw bad("checkpoint_steps", checkpointSteps, "an integer >= 0 (steps; 0: off)") }
        guard keepCheckpoints >= 1 else { throw bad("keep_checkpoints", keepCheckpoints, "an integer >= 1") }
        guard knnInterval >= 0 else { throw bad("knn_interval", knnInterval, "an integer >= 0 (0: off)") }
        guard knnK >= 1 else { throw bad("knn_k", knnK, "an integer >= 1") }
        guard knnTemperature > 0 else { throw bad("knn_temperature", knnTemperature, "a number > 0") }
    }
}
