// `simclr eval linear|knn`: evaluation of a pretrained encoder on frozen features h (head
// discarded, BatchNorm in eval mode, no augmentation), fitted on the training split and scored
// on the evaluation split.
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

/// The evaluation split flag and its default.
struct EvaluationSplitOption: ParsableArguments {
    @Option(name: .customLong("val-split"),
            help: "Evaluation split, never one with training images (default per dataset: cifar10 val with --val-batches, else test; cifar100 and stl10 test; synthetic val; folder val with --val-dir or --val-fraction).")
    var valSplit: DatasetSplit?

    /// --val-split, else the dataset's evaluation split; refuses a split holding training images
    /// and an image folder without a held-out split.
    func split(for data: DatasetSettings) throws -> DatasetSplit {
        do {
            return try data.scoredSplit(requested: valSplit)
        } catch {
            throw ValidationError(error.localizedDescription)
        }
    }
}

/// The training and evaluation features of an evaluation command.
struct EvaluationFeatures {
    var loaded: LoadedEncoder
    var split: DatasetSplit
    var train: ExtractedFeatures
    var eval: ExtractedFeatures

    init(encoder: EncoderOptions, data: DatasetOptions, split option: EvaluationSplitOption) throws {
        loaded = try LoadedEncoder(encoder, data: data)
        split = try option.split(for: loaded.data)
        train = try loaded.features(loaded.data.labelledTrainingSplit, options: encoder)
        eval = try loaded.features(split, options: encoder)
    }

    /// What was fitted on and what was scored.
    var scope: EvaluationScope { EvaluationScope(fitted: train, scored: eval) }

    /// The JSON fields every evaluation report carries: encoder, dataset, splits and their sizes.
    var reportFields: [String: Any] {
        var fields = scope.jsonFields
        fields["encoder"] = loaded.source
        fields["dataset"] = loaded.data.dataset.rawValue
        fields["split"] = split.description
        fields["fit_split"] = loaded.data.labelledTrainingSplit.description
        return fields
    }
}

struct LinearEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linear",
        abstract: "Linear probe: multinomial logistic regression on standardised h (full-batch L-BFGS, fixed L2), top-1/top-5.",
        discussion: """
            Fitted on the labelled training split only; reported on the evaluation split: cifar10 'val' with \
            --val-batches (else 'test'), cifar100 / stl10 'test', synthetic 'val', image folders 'val' from --val-dir \
            or --val-fraction (a folder without either is refused); --val-split overrides, but never with a split \
            that holds training images. The report names both splits and their sizes. The L2 coefficient is fixed \
            (never tuned on the evaluation split).
            """)

    @OptionGroup var encoder: EncoderOptions
    @OptionGroup var data: DatasetOptions
    @OptionGroup var evaluation: EvaluationSplitOption
    @Option(help: "L2 coefficient: loss + (l2/2)||W||^2.") var l2: Double = 1e-4
    @Option(name: .customLong("max-iter"), help: "L-BFGS iterations.") var maxIter: Int = 500
    @Option(help: "Append the result as a JSON line to this file.") var json: String?

    func validate() throws {
        guard l2 >= 0 else { throw ValidationError("--l2 \(l2) is not allowed: expected >= 0") }
        guard maxIter >= 1 else { throw ValidationError("--max-iter \(maxIter) is not allowed: expected >= 1") }
        _ = try evaluation.split(for: try data.settings())
    }

    func run() throws {
        let f = try EvaluationFeatures(encoder: encoder, data: data, split: evaluation)
        let bar = ProgressBar(label: "linear probe (L-BFGS)", total: maxIter, unit: "iter")
        let r = try LinearEvaluation.run(train: f.train, eval: f.eval, options: LinearProbeOptions(l2: l2, maxIterations: maxIter)) { p in
            bar.update(p.iteration, fields: [("loss", String(format: "%.4f", p.loss))])
        }
        bar.finish()
        let e = r.evaluation!
        print(String(format: "linear probe  %@  %@: top-1 %.2f%%  top-5 %.2f%%  %@  (train top-1 %.2f%%, d = %d, L-BFGS %d iterations, %@)",
                     f.loaded.source, f.split.description, e.top1, e.top5, f.scope.description, r.train.top1,
                     f.loaded.encoder.featureDim, r.optimizer.iterations, r.optimizer.stop.rawValue))
        try emitJSON(f.reportFields.merging(["protocol": "linear", "top1": e.top1, "top5": e.top5, "train_top1": r.train.top1,
                                             "iterations": r.optimizer.iterations, "loss": r.loss, "l2": l2,
                                             "random_init": encoder.randomInit]) { $1 },
                     appendTo: json)
    }
}

struct KNNEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knn",
        abstract: "Weighted kNN on h: cosine similarity, k nearest training features vote exp(sim / T) (InstDisc protocol).",
        discussion: """
            The bank is the labelled training split; the queries are the evaluation split, chosen as for \
            'eval linear' (an image folder needs --val-dir or --val-fraction). The report names both splits and their sizes.
            """)

    @OptionGroup var encoder: EncoderOptions
    @OptionGroup var data: DatasetOptions
    @OptionGroup var evaluation: EvaluationSplitOption
    @Option(help: "Neighbours.") var k: Int = 200
    @Option(help: "Vote temperature T.") var temperature: Double = 0.1
    @Option(help: "Append the result as a JSON line to this file.") var json: String?

    func validate() throws {
        guard k >= 1 else { throw ValidationError("--k \(k) is not allowed: expected >= 1") }
        guard temperature > 0 else { throw ValidationError("--temperature \(temperature) is not allowed: expected > 0") }
        _ = try evaluation.split(for: try data.settings())
    }

    func run() throws {
        let f = try EvaluationFeatures(encoder: encoder, data: data, split: evaluation)
        let a = try KNNEvaluation.run(bank: f.train, queries: f.eval, options: KNNOptions(k: k, temperature: temperature))
        print(String(format: "kNN (k=%d, T=%g)  %@  %@: top-1 %.2f%%  top-5 %.2f%%  %@  (d = %d)",
                     k, temperature, f.loaded.source, f.split.description, a.top1, a.top5, f.scope.description,
                     f.loaded.encoder.featureDim))
        try emitJSON(f.reportFields.merging(["protocol": "knn", "top1": a.top1, "top5": a.top5, "k": k, "temperature": temperature,
                                             "random_init": encoder.randomInit]) { $1 },
                     appendTo: json)
    }
}
