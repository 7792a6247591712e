// `simclr eval linear|knn`: evaluation of a pretrained encoder on frozen features h (head
// discarded, BatchNorm in eval mode, no augmentation), on the training and evaluation splits.
// Also holds the encoder options shared by `eval`, `embed` and `export`.
import ArgumentParser
import Foundation
import SimCLR

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a pretrained encoder (linear probe, kNN).",
        subcommands: [LinearEval.self, KNNEval.self])
}

/// Writes `fields` as one JSON object line to stdout and, when given, appends it to `path`.
func emitJSON(_ fields: [String: Any], appendTo path: String?) throws {
    let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    let line = String(decoding: data, as: UTF8.self)
    print(line)
    if let path {
        let url = URL(fileURLWithPath: path)
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: url.path) else { throw ValidationError("--json \(path): cannot open it for writing") }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data((line + "\n").utf8))
    }
}

struct LinearEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linear",
        abstract: "Linear probe: multinomial logistic regression on standardised h (full-batch L-BFGS, fixed L2), top-1/top-5.",
        discussion: """
            Fitted on the training split only; reported on the evaluation split: cifar10 'val' with --val-batches \
            (else 'test'), cifar100 / stl10 'test', synthetic 'val'; --val-split overrides. The L2 coefficient is \
            fixed (never tuned on the evaluation split).
            """)

    @OptionGroup var encoder: EncoderOptions
    @OptionGroup var data: DatasetOptions
    @Option(name: .customLong("val-split"), help: "Evaluation split (default per dataset).") var valSplit: String?
    @Option(help: "L2 coefficient: loss + (l2/2)||W||^2.") var l2: Double = 1e-4
    @Option(name: .customLong("max-iter"), help: "L-BFGS iterations.") var maxIter: Int = 500
    @Option(help: "Append the result as a JSON line to this file.") var json: String?

    func validate() throws {
        guard l2 >= 0 else { throw ValidationError("--l2 \(l2) is not allowed: expected >= 0") }
        guard maxIter >= 1 else { throw ValidationError("--max-iter \(maxIter) is not allowed: expected >= 1") }
        try data.requireEvaluationSplit(valSplit)
    }

    func run() throws {
        let (net, source, data, split, train, test) = try self.data.evaluationFeatures(encoder: encoder, valSplit: valSplit)
        let bar = ProgressBar(label: "linear probe (L-BFGS)", total: maxIter, unit: "iter")
        let r = try LinearProbe.run(
            trainFeatures: train.features, trainLabels: try train.requireLabels(), evalFeatures: test.features,
            evalLabels: try test.requireLabels(), classCount: max(train.classNames.count, 1),
            options: LinearProbeOptions(l2: l2, maxIterations: maxIter)) { p in bar.update(p.iteration, fields: [("loss", String(format: "%.4f", p.loss))]) }
        bar.finish()
        let e = r.evaluation!
        print(String(format: "linear probe  %@  %@: top-1 %.2f%%  top-5 %.2f%%  (train top-1 %.2f%%; %d train / %d eval images, d = %d, L-BFGS %d iterations, %@)",
                     source, split, e.top1, e.top5, r.train.top1, train.labels.count, test.labels.count, net.featureDim,
                     r.optimizer.iterations, r.optimizer.stop.rawValue))
        try emitJSON(["protocol": "linear", "encoder": source, "dataset": data.dataset, "split": split, "top1": e.top1, "top5": e.top5,
                      "train_top1": r.train.top1, "iterations": r.optimizer.iterations, "loss": r.loss, "l2": l2,
                      "random_init": encoder.randomInit], appendTo: json)
    }
}

struct KNNEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knn",
        abstract: "Weighted kNN on h: cosine similarity, k nearest training features vote exp(sim / T) (InstDisc protocol).")

    @OptionGroup var encoder: EncoderOptions
    @OptionGroup var data: DatasetOptions
    @Option(name: .customLong("val-split"), help: "Evaluation split (default per dataset).") var valSplit: String?
    @Option(help: "Neighbours.") var k: Int = 200
    @Option(help: "Vote temperature T.") var temperature: Double = 0.1
    @Option(help: "Append the result as a JSON line to this file.") var json: String?

    func validate() throws {
        guard k >= 1 else { throw ValidationError("--k \(k) is not allowed: expected >= 1") }
        guard temperature > 0 else { throw ValidationError("--temperature \(temperature) is not allowed: expected > 0") }
        try data.requireEvaluationSplit(valSplit)
    }

    func run() throws {
        let (net, source, data, split, train, test) = try self.data.evaluationFeatures(encoder: encoder, valSplit: valSplit)
        let knn = try KNNClassifier(features: train.features, labels: try train.requireLabels(), classCount: max(train.classNames.count, 1))
        let a = try knn.evaluate(test.features, labels: try test.requireLabels(), k: k, temperature: Float(temperature))
        print(String(format: "kNN (k=%d, T=%g)  %@  %@: top-1 %.2f%%  top-5 %.2f%%  (%d train / %d eval images, d = %d)",
                     k, temperature, source, split, a.top1, a.top5, train.labels.count, test.labels.count, net.featureDim))
        try emitJSON(["protocol": "knn", "encoder": source, "dataset": data.dataset, "split": split, "top1": a.top1, "top5": a.top5,
                      "k": k, "temperature": temperature, "random_init": encoder.randomInit], appendTo: json)
    }
}


struct EncoderOptions: ParsableArguments {
    @Option(help: "Checkpoint file, exported encoder, or run folder (its last checkpoint).") var checkpoint: String?
    @Flag(name: .customLong("random-init"), help: "Evaluate an untrained encoder (the floor); architecture from --checkpoint or the flags below.")
    var randomInit = false
    @Option(help: "Without a checkpoint: resnet18, resnet34 or resnet50.") var arch: String = "resnet18"
    @Option(help: "Without a checkpoint: cifar or imagenet stem (default per dataset).") var stem: String?
    @Option(help: "Without a checkpoint: width multiplier.") var width: Double = 1.0
    @Option(help: "Seed of the random initialisation (default: the checkpoint's, i.e. the encoder its pretraining started from; else 0).")
    var seed: UInt64?
    @Option(help: "Compute threads (0: all cores).") var threads: Int = 0
    @Option(name: .customLong("loader-threads"), help: "Image preparation threads.") var loaderThreads: Int = 1
    @Option(name: .customLong("eval-batch"), help: "Images per forward pass.") var evalBatch: Int = 256

    func validate() throws {
        if checkpoint == nil && !randomInit { throw ValidationError("--checkpoint is required (or --random-init for the floor)") }
        guard ResNetConfig.Depth(name: arch) != nil else { throw ValidationError("--arch '\(arch)' is not allowed: expected resnet18, resnet34 or resnet50") }
        if let stem, ResNetConfig.Stem(rawValue: stem) == nil { throw ValidationError("--stem '\(stem)' is not allowed: expected cifar or imagenet") }
        guard width > 0 else { throw ValidationError("--width \(width) is not allowed: expected > 0") }
        guard threads >= 0 else { throw ValidationError("--threads \(threads) is not allowed: expected >= 0") }
        guard loaderThreads >= 1 else { throw ValidationError("--loader-threads \(loaderThreads) is not allowed: expected >= 1") }
        guard evalBatch >= 1 else { throw ValidationError("--eval-batch \(evalBatch) is not allowed: expected >= 1") }
    }

    /// The encoder (weights loaded unless --random-init) and the training config it came with.
    func load(dataset: DatasetOptions) throws -> (encoder: ResNet, trained: TrainConfig?, source: String) {
        ComputeThreads.set(threads)
        var info: CheckpointInfo?
        if let checkpoint { info = try Checkpoint.info(try Checkpoint.resolve(checkpoint)) }
        let config: ResNetConfig
        if let c = info?.config {
            config = c.encoderConfig
        } else {
            let defaultStem: ResNetConfig.Stem = [.stl10, .folder].contains(dataset.name) ? .imagenet : .cifar
            config = ResNetConfig(depth: ResNetConfig.Depth(name: arch)!, stem: stem.flatMap { ResNetConfig.Stem(rawValue: $0) } ?? defaultStem,
                                  width: width)
        }
        // SimCLRModel draws the encoder first from RandomState(seed): same seed, same initial encoder.
        let initSeed = seed ?? info?.config.seed ?? 0
        var rng = RandomState(seed: initSeed)
        let encoder = ResNet(config, rng: &rng)
        if !randomInit, let info { try Checkpoint.loadEncoder(info.url, into: encoder) }
        let source = randomInit ? "random init (seed \(initSeed))" : (info.map { "\($0.url.path) (epoch \($0.epoch))" } ?? "?")
        return (encoder, info?.config, source)
    }
}

extension DatasetOptions {
    /// Refuses a dataset without a default evaluation split when --val-split is not given.
    func requireEvaluationSplit(_ valSplit: String?) throws {
        if valSplit == nil && defaultEvaluationSplit == nil {
            throw ValidationError("--val-split is required: dataset \(dataset) has no default evaluation split")
        }
    }

    /// The encoder (trained or random-init), the dataset options adjusted to its image size, the
    /// evaluation split, and h for the training split and the evaluation split (BN in eval mode).
    func evaluationFeatures(encoder options: EncoderOptions, valSplit: String?) throws
        -> (ResNet, String, DatasetOptions, String, ExtractedFeatures, ExtractedFeatures)
    {
        let (net, trained, source) = try options.load(dataset: self)
        let data = withImageSize(from: trained)
        let split = valSplit ?? data.defaultEvaluationSplit!
        let train = try data.features(split: "train", encoder: net, options: options)
        let test = try data.features(split: split, encoder: net, options: options)
        return (net, source, data, split, train, test)
    }

    /// The image side: --image-size, else the checkpoint's training size, else the dataset's.
    func withImageSize(from trained: TrainConfig?) -> DatasetOptions {
        var d = self
        if d.imageSize == nil, let t = trained, t.dataset == d.dataset.lowercased() { d.imageSize = t.imageSize }
        return d
    }

    /// The labelled split evaluation reports on, by default (see `TrainConfig.evaluationSplit`).
    var defaultEvaluationSplit: String? {
        var t = TrainConfig.defaults(dataset: dataset)
        t.valBatches = (try? parsedValBatches()) ?? []
        return t.evaluationSplit
    }

    /// h of every image of `split`, with a progress bar.
    func features(split: String, encoder: ResNet, options: EncoderOptions) throws -> ExtractedFeatures {
        let set = try spec(split: split).make()
        let bar = ProgressBar(label: "features \(set.name)", total: set.count, unit: "img")
        let f = try FeatureExtraction.extract(encoder: encoder, dataset: set, augmentation: augmentation(), batchSize: options.evalBatch,
                                              loaderThreads: options.loaderThreads) { done, _ in bar.update(done) }
        bar.finish()
        return f
    }
}
