// The encoder options shared by `eval`, `embed` and `finetune`-like commands: a checkpoint (or
// run folder, or exported encoder) to load, or a random initialisation for the floor.
import ArgumentParser
import Foundation
import SimCLR

struct EncoderOptions: ParsableArguments {
    @Option(help: "Checkpoint file, exported encoder, or run folder (its last checkpoint).") var checkpoint: String?
    @Flag(name: .customLong("random-init"), help: "Evaluate an untrained encoder (the floor); architecture from --checkpoint or the flags below.")
    var randomInit = false
    @Option(help: "Without a checkpoint: \(Architecture.choicesText).") var arch: Architecture = .resnet18
    @Option(help: "Without a checkpoint: cifar or imagenet stem (default per dataset).") var stem: ResNetConfig.Stem?
    @Option(help: "Without a checkpoint: width multiplier.") var width: Double = 1.0
    @Option(help: "Seed of the random initialisation (default: the checkpoint's, i.e. the encoder its pretraining started from; else 0).")
    var seed: UInt64?
    @Option(help: "Compute threads (0: all cores).") var threads: Int = 0
    @Option(name: .customLong("loader-threads"), help: "Image preparation threads.") var loaderThreads: Int = 1
    @Option(name: .customLong("eval-batch"), help: "Images per forward pass.") var evalBatch: Int = 256

    func validate() throws {
        if checkpoint == nil && !randomInit { throw ValidationError("--checkpoint is required (or --random-init for the floor)") }
        guard width > 0 else { throw ValidationError("--width \(width) is not allowed: expected > 0") }
        guard threads >= 0 else { throw ValidationError("--threads \(threads) is not allowed: expected >= 0") }
        guard loaderThreads >= 1 else { throw ValidationError("--loader-threads \(loaderThreads) is not allowed: expected >= 1") }
        guard evalBatch >= 1 else { throw ValidationError("--eval-batch \(evalBatch) is not allowed: expected >= 1") }
    }

    /// The encoder (weights loaded unless --random-init), the training config it came with, and
    /// a description of where it came from.
    func load(dataset: DatasetSpec.Name) throws -> (encoder: ResNet, trained: TrainConfig?, source: String) {
        ComputeThreads.set(threads)
        var info: CheckpointInfo?
        if let checkpoint { info = try Checkpoint.info(try Checkpoint.resolve(checkpoint)) }
        let config = info?.config.encoderConfig
            ?? ResNetConfig(depth: arch.depth, stem: stem ?? DatasetRecipe.of(dataset).stem, width: width)
        // SimCLRModel draws the encoder first from RandomState(seed): same seed, same initial encoder.
        let initSeed = seed ?? info?.config.runtime.seed ?? 0
        var rng = RandomState(seed: initSeed)
        let encoder = ResNet(config, rng: &rng)
        if !randomInit, let info { try Checkpoint.loadEncoder(info.url, into: encoder) }
        let source = randomInit ? "random init (seed \(initSeed))" : (info.map { "\($0.url.path) (epoch \($0.epoch))" } ?? "?")
        return (encoder, info?.config, source)
    }
}

/// What evaluation commands load: the encoder and the dataset settings fitted to it.
struct LoadedEncoder {
    var encoder: ResNet
    var source: String
    var data: DatasetSettings

    init(_ options: EncoderOptions, data flags: DatasetOptions) throws {
        let name = try flags.settings().dataset
        let (encoder, trained, source) = try options.load(dataset: name)
        self.encoder = encoder
        self.source = source
        data = try flags.settings(trainedWith: trained)
    }

    /// h of every image of `split`, with a progress bar.
    func features(_ split: DatasetSplit, options: EncoderOptions) throws -> ExtractedFeatures {
        let set = try data.open(split)
        let bar = ProgressBar(label: "features \(set.name)", total: set.count, unit: "img")
        let f = try FeatureExtraction.extract(encoder: encoder, dataset: set, augmentation: data.augmentation(),
                                              batchSize: options.evalBatch, loaderThreads: options.loaderThreads) { done, _ in
            bar.update(done)
        }
        bar.finish()
        return f
    }
}
