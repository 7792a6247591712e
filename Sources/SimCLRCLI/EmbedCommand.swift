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
    @Option(help: "Split to embed.") var split: String = "train"
    @Option(help: "Features file ([N, d] float32).") var out: String = "h.npy"
    @Option(name: .customLong("labels-out"), help: "Labels file ([N] int64, -1 when unlabeled). Default: <out>_labels.npy.")
    var labelsOut: String?

    var labelsPath: String {
        if let labelsOut { return labelsOut }
        let base = out.hasSuffix(".npy") ? String(out.dropLast(4)) : out
        return base + "_labels.npy"
    }

    func run() throws {
        let (net, trained, source) = try encoder.load(dataset: data)
        let data = self.data.withImageSize(from: trained)
        let f = try data.features(split: split, encoder: net, options: encoder)
        try NPY.write(f.features, to: URL(fileURLWithPath: out))
        try NPY.write(labels: f.labels.map { $0 ?? -1 }, to: URL(fileURLWithPath: labelsPath))
        print("wrote \(out) (\(f.features.shape[0]) x \(f.features.shape[1]) float32, \(source)) and \(labelsPath)")
    }
}
