// `simclr train`: SimCLR pretraining into a run folder, resumable.
import ArgumentParser
import Foundation
import SimCLR

/// The defaults the help texts quote.
private let D = TrainConfig()

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Pretrain an encoder with SimCLR (writes a resumable run folder).",
        discussion: """
            Settings, later wins: the dataset's defaults, the run folder's \
            config.yaml (when resuming), --config FILE (YAML; keys are the \
            flag names with '_' for '-', e.g. batch_size: 256), the flags.

            Defaults per dataset (lr is scaled by --lr-scaling, linear: x B/256;
            the warmup is at most --epochs):
            \(DatasetRecipe.helpTable)
            Every dataset: --momentum 0.9, per-step cosine decay after the warmup.
            The CIFAR-like recipe is the PyTorch reference's (SGD, 60.7% linear
            on CIFAR-10 val after 20 epochs at batch 256), which suits the small
            batches and short runs a CPU affords. The paper's CIFAR recipe
            (Appendix B.9) needs batches of 1024+ and hundreds of epochs:
            --optimizer lars --lr 1.0 --weight-decay 1e-6 --warmup-epochs 10.

            Run folder (--out): config.yaml, metrics.jsonl, tb/
            (TensorBoard), checkpoints/, curves.png (also after an early
            stop), neighbors.png (datasets with a labelled evaluation
            split: the nearest training images of 8 held-out images),
            summary.json. A checkpoint is written only if every weight,
            BN statistic and optimizer buffer is finite.
            Re-running into a folder that holds a checkpoint continues
            from it; --resume makes that required. One process at a time
            trains into a folder (a second one is refused).

            Ctrl-C or SIGTERM: the run finishes its step, writes a
            checkpoint, curves.png and summary.json, prints how to resume
            and exits with 130 / 143; a second Ctrl-C stops at once (the
            last complete checkpoint is kept). A batch whose estimated
            memory exceeds what is available is refused before training.
            """)

    @Option(help: "YAML file of settings (flags override it).") var config: String?
    @Option(help: "Run folder.") var out: String = "runs/simclr"
    @Flag(help: "Continue the run in --out from its last checkpoint (an error if there is none).") var resume = false
    @Flag(help: "No progress bar.") var quiet = false

    @OptionGroup var data: DatasetOptions
    @Option(name: .customLong("train-split"),
            help: "The split pretraining reads: \(DatasetSplit.grammar) (default per dataset, in the table above; the kNN monitor uses the labelled splits).")
    var trainSplit: String?

    // Model
    @Option(help: "\(Architecture.choicesText) (default \(D.model.arch.rawValue)).") var arch: String?
    @Option(help: "cifar or imagenet stem (default per dataset).") var stem: String?
    @Option(help: "Encoder width multiplier (default \(D.model.width)).") var width: Double?
    @Option(name: .customLong("head-layers"), help: "Projection head linear layers (default \(D.model.headLayers)).") var headLayers: Int?
    @Option(name: .customLong("head-hidden"), help: "Head hidden width (default 0: the encoder's dimension).") var headHidden: Int?
    @Option(name: .customLong("head-out"), help: "Head output dimension (default \(D.model.headOut)).") var headOut: Int?
    @Flag(name: .customLong("head-bn"), inversion: .prefixedNo, help: "BatchNorm in the head (default off).") var headBn: Bool?

    // Optimisation
    @Option(help: "Epochs (default \(D.optimization.epochs)).") var epochs: Int?
    @Option(name: [.customLong("batch-size"), .customLong("batch")], help: "Images per step; each gives --views views (default \(D.optimization.batchSize)).")
    var batchSize: Int?
    @Option(name: [.customLong("views"), .customLong("n-views")], help: "Views per image (default \(D.optimization.views)).") var views: Int?
    @Option(help: "\(OptimizerKind.choicesText) (default per dataset).") var optimizer: String?
    @Option(help: "Base learning rate, scaled by --lr-scaling (default per dataset).") var lr: Double?
    @Option(name: .customLong("lr-scaling"), help: "linear (lr x B/256), sqrt (lr x sqrt(B)) or none (default \(D.optimization.lrScaling.rawValue)).")
    var lrScaling: String?
    @Option(help: "SGD / LARS momentum (default \(D.optimization.momentum)).") var momentum: Double?
    @Option(name: .customLong("weight-decay"), help: "Weight decay (default per dataset).") var weightDecay: Double?
    @Option(name: .customLong("warmup-epochs"), help: "Linear warmup epochs before the cosine decay (default per dataset).")
    var warmupEpochs: Double?
    @Option(help: "NT-Xent temperature (default per dataset).") var temperature: Double?

    // Augmentation
    @Option(help: "Colour-jitter strength s (default per dataset).") var jitter: Double?
    @Flag(inversion: .prefixedNo, help: "Gaussian blur (default per dataset).") var blur: Bool?
    @Option(name: .customLong("crop-min"), help: "Smallest random-crop area fraction (default \(D.augment.cropMin), the paper's).") var cropMin: Double?

    // Runtime
    @Option(help: "Seed of initialisation, shuffling and views (default \(D.runtime.seed)).") var seed: UInt64?
    @Option(help: "Compute threads, oneDNN and OpenBLAS (default 0: all cores).") var threads: Int?
    @Option(name: .customLong("conv-algorithm"),
            help: "3x3 stride-1 convolutions: \(ConvolutionAlgorithm.choicesText); auto: Winograd from 16 channels, input gradient from 32 (default \(D.runtime.convAlgorithm.rawValue)).")
    var convAlgorithm: String?
    @Option(name: .customLong("loader-threads"), help: "Augmentation threads (default \(D.runtime.loaderThreads)).") var loaderThreads: Int?
    @Option(help: "Batches prepared ahead (default \(D.runtime.prefetch)).") var prefetch: Int?
    @Option(name: .customLong("log-interval"), help: "Metrics line every N steps (default \(D.runtime.logInterval); 0: per epoch).") var logInterval: Int?
    @Option(name: .customLong("checkpoint-interval"), help: "Checkpoint every K epochs, and at the end (default \(D.runtime.checkpointInterval)).")
    var checkpointInterval: Int?
    @Option(name: .customLong("checkpoint-steps"), help: "Also a checkpoint every K steps, mid-epoch too (default \(D.runtime.checkpointSteps): off).")
    var checkpointSteps: Int?
    @Option(name: .customLong("keep-checkpoints"), help: "Checkpoints kept (default \(D.runtime.keepCheckpoints)).") var keepCheckpoints: Int?
    @Option(name: .customLong("knn-interval"), help: "kNN monitor every K epochs on the labelled split (default \(D.runtime.knnInterval); 0: off).")
    var knnInterval: Int?
    @Option(name: .customLong("knn-k"), help: "kNN neighbours (default \(D.runtime.knnK)).") var knnK: Int?
    @Option(name: .customLong("knn-temperature"), help: "kNN vote temperature (default \(D.runtime.knnTemperature)).") var knnTemperature: Double?

    @Option(name: .customLong("debug-kill-after-step"), help: .hidden) var debugKillAfterStep: Int?

    /// The flags given, as a configuration layer.
    func flagLayer() throws -> ConfigLayer {
        var l = try data.layer().values
        func put(_ key: String, _ value: Any?) { if let value { l[key] = value } }
        put("train_split", trainSplit?.lowercased())
        put("arch", arch?.lowercased())
        put("stem", stem?.lowercased())
        put("width", width)
        put("head_layers", headLayers)
        put("head_hidden", headHidden)
        put("head_out", headOut)
        put("head_bn", headBn)
        put("epochs", epochs)
        put("batch_size", batchSize)
        put("views", views)
        put("optimizer", optimizer?.lowercased())
        put("lr", lr)
        put("lr_scaling", lrScaling?.lowercased())
        put("momentum", momentum)
        put("weight_decay", weightDecay)
        put("warmup_epochs", warmupEpochs)
        put("temperature", temperature)
        put("jitter", jitter)
        put("blur", blur)
        put("crop_min", cropMin)
        put("seed", seed)
        put("threads", threads)
        put("conv_algorithm", convAlgorithm?.lowercased())
        put("loader_threads", loaderThreads)
        put("prefetch", prefetch)
        put("log_interval", logInterval)
        put("checkpoint_interval", checkpointInterval)
        put("checkpoint_steps", checkpointSteps)
        put("keep_checkpoints", keepCheckpoints)
        put("knn_interval", knnInterval)
        put("knn_k", knnK)
        put("knn_temperature", knnTemperature)
        return ConfigLayer(l, from: .flags)
    }

    /// Defaults < run folder's config.yaml (if it holds a checkpoint) < --config < flags, validated.
    func resolvedConfig() throws -> TrainConfig {
        var layers: [ConfigLayer] = []
        let folder = RunFolder(URL(fileURLWithPath: out))
        if folder.latestCheckpoint != nil, FileManager.default.fileExists(atPath: folder.config.path) {
            layers.append(try ConfigLayer(contentsOf: folder.config, known: TrainConfig.keys))
        }
        if let config {
            guard FileManager.default.fileExists(atPath: config) else {
                throw ValidationError("--config \(config): no such file")
            }
            layers.append(try ConfigLayer(contentsOf: URL(fileURLWithPath: config), known: TrainConfig.keys))
        }
        layers.append(try flagLayer())
        return try TrainConfig.resolve(layers)
    }

    func validate() throws {
        do {
            _ = try resolvedConfig()
        } catch let e as ValidationError {
            throw e
        } catch {
            throw ValidationError(error.localizedDescription)
        }
        if let k = debugKillAfterStep, k < 1 { throw ValidationError("--debug-kill-after-step \(k): expected >= 1") }
    }

    func run() throws {
        let c = try resolvedConfig()
        let trainer = Trainer(config: c, folder: RunFolder(URL(fileURLWithPath: out)))
        trainer.requireResume = resume
        trainer.showProgress = !quiet
        trainer.stopsOnSignals = true
        if let k = debugKillAfterStep {
            trainer.afterStep = { step in if step == k { kill(getpid(), SIGKILL) } }
        }
        let s = try trainer.run()
        let folder = RunFolder(URL(fileURLWithPath: out))
        let o = c.optimization
        print("SimCLR pretraining: \(c.model.arch.rawValue) width \(c.model.width) on \(c.data.dataset.rawValue) \(c.data.trainSplit), \(o.epochs) epochs x \(s.stepsPerEpoch) steps, batch \(o.batchSize) x \(o.views) views")
        if let from = s.resumedFrom { print("  resumed from   \(from) (step \(s.startStep))") }
        if let l = s.finalLoss, let t = s.finalTop1 {
            print(String(format: "  last epoch     loss %.4f, contrastive top-1 %.3f", l, t))
        }
        print(String(format: "  speed          %.0f images/s (%.0f views/s), %.1f s, data wait %.1f%% of the time",
                     s.imagesPerSecond, s.imagesPerSecond * Double(o.views), s.seconds, 100 * s.dataWaitShare))
        if let k = s.knnTop1 { print(String(format: "  kNN monitor    top-1 %.2f%%", k)) }
        print("  run folder     \(folder.url.path)")
        print("  checkpoint     \(s.lastCheckpoint ?? "-")")
        print("  metrics        \(folder.metrics.path)")
        print("  curves         \(folder.curves.path)")
        if FileManager.default.fileExists(atPath: folder.neighbors.path) { print("  neighbours     \(folder.neighbors.path)") }
        if let signal = s.stopSignal {
            print("  stopped        by \(signal.name) before the end (summary.json: completed false); the checkpoint above holds the last step")
            print("  resume with    simclr train --out \(folder.url.path) --resume")
            throw ExitCode(signal.exitCode)
        }
    }
}
