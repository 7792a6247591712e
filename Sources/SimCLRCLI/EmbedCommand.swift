// `simclr embed`: the representation h of every image of a split as NumPy .npy files.
import ArgumentParser
import Foundation
import SimCLR

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write h (encoder output, BN in eval mode, no augmentation) of every image as float32 .npy, labels as int64 .npy.")

    @OptionGroup var encoder: EncoderOptions
    @OptionGroup var data: DatasetOptions
    @Option(help: "Split to embed.") var split: DatasetSplit = .train
    @Option(help: "Features file ([N, d] float32).") var out: String = "h.npy"
    @Option(name: .customLong("labels-out"), help: "Labels file ([N] int64, -1 when unlabeled). Default: <out>_labels.npy.")
    var labelsOut: String?

    var labelsPath: String {
        if let labelsOut { return labelsOut }
        let base = out.hasSuffix(".npy") ? String(out.dropLast(4)) : out
        return base + "_labels.npy"
    }

    func run() throws {
        let loaded = try LoadedEncoder(encoder, data: data)
        let f = try loaded.features(split, options: encoder)
        try NPY.write(f.features, to: URL(fileURLWithPath: out))
        try NPY.write(labels: f.labels.map { $0 ?? -1 }, to: URL(fileURLWithPath: labelsPath))
        print("wrote \(out) (\(f.features.shape[0]) x \(f.features.shape[1]) float32, \(loaded.source)) and \(labelsPath)")
    }
}
