// The dataset flags, declared once and shared by every command that reads images (train, eval,
// embed, preview, neighbors, bench augment). They form a configuration layer; `DatasetSettings.resolve`
// turns it into settings (and `DatasetSettings.spec` into a reader) in one place.
import ArgumentParser
import Foundation
import SimCLR

struct DatasetOptions: ParsableArguments {
    @Option(help: "Dataset: \(DatasetSpec.Name.choicesText) (default synthetic).")
    var dataset: String?

    @Option(name: .customLong("data-dir"),
            help: "Folder with the data (folder: the image folder). Default: $SIMCLR_DATA or ~/.cache/swift-simclr/data.")
    var dataDir: String?

    @Flag(help: "Download CIFAR-10/100 or STL-10 from the official location when the files are missing (MD5-checked).")
    var download = false

    @Option(name: .customLong("val-batches"), help: "CIFAR-10: training batches held out as the val split (e.g. 5).")
    var valBatches: String?

    @Option(name: .customLong("on-bad-image"), help: "Image folders: skip or fail on an undecodable image (default skip).")
    var onBadImage: String?

    @Option(name: .customLong("synthetic-count"), help: "Synthetic: training images (default \(DatasetSettings().syntheticCount)).")
    var syntheticCount: Int?

    @Option(name: .customLong("image-size"),
            help: "View side (default per dataset: 32, 96 STL-10, 224 folders; evaluation: the checkpoint's).")
    var imageSize: Int?

    @Option(name: .customLong("cache-dir"),
            help: "Image folders: cache of decoded pixels (default $SIMCLR_CACHE, else ~/.cache/swift-simclr; the image folder is only read).")
    var cacheDir: String?

    @Option(name: .customLong("val-dir"),
            help: "Image folders: a second folder with the same class sub-folders, the held-out 'val' split that evaluation scores.")
    var valDir: String?

    @Option(name: .customLong("val-fraction"),
            help: "Image folders: hold out this fraction of each class as the 'val' split (class-stratified, seeded by --split-seed; e.g. 0.1).")
    var valFraction: Double?

    @Option(name: .customLong("split-seed"), help: "Image folders: seed of the --val-fraction split (default \(DatasetSettings().splitSeed)).")
    var splitSeed: UInt64?

    @Option(name: .customLong("cifar100-labels"),
            help: "CIFAR-100: \(CIFARDataset.LabelKind.choicesText) labels (100 classes or 20 superclasses; default \(DatasetSettings().cifar100Labels.rawValue)).")
    var cifar100Labels: String?

    /// Refuses what cannot even be read (the settings are checked once resolved).
    func validate() throws { _ = try layer() }

    /// The flags given, as a configuration layer.
    func layer() throws -> ConfigLayer {
        var l: [String: Any] = [:]
        func put(_ key: String, _ value: Any?) { if let value { l[key] = value } }
        put("dataset", dataset?.lowercased())
        put("data_dir", dataDir)
        if download { l["download"] = true }
        put("val_batches", try valBatches.map(Self.parseBatches))
        put("on_bad_image", onBadImage?.lowercased())
        put("synthetic_count", syntheticCount)
        put("image_size", imageSize)
        put("cache_dir", cacheDir)
        put("val_dir", valDir)
        put("val_fraction", valFraction)
        put("split_seed", splitSeed)
        put("cifar100_labels", cifar100Labels?.lowercased())
        return ConfigLayer(l, from: .flags)
    }

    /// "4,5" -> [4, 5].
    static func parseBatches(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--val-batches '\(text)' is not allowed: expected comma-separated batch numbers in 1...5")
        }
        return parts.map { $0! }
    }

    /// The resolved settings; `trained` (a checkpoint's configuration) supplies the image side
    /// when it was trained on the same dataset and --image-size is not given.
    func settings(trainedWith trained: TrainConfig? = nil) throws -> DatasetSettings {
        let flags = try layer()
        var layers = [flags]
        if let t = trained, imageSize == nil, t.data.dataset.rawValue == (flags.values["dataset"] as? String ?? "synthetic") {
            layers.insert(ConfigLayer(["image_size": t.data.imageSize], from: .defaults), at: 0)
        }
        return try DatasetSettings.resolve(layers)
    }
}
