// The dataset settings every command that reads images shares (train, eval, embed, preview,
// neighbors, bench augment), and the one place they become a `DatasetSpec`. The rules about
// splits (which exist, which one evaluation may score) are in DatasetSettings+Splits.swift.
import Foundation

/// Which dataset to read, where, and how.
public struct DatasetSettings: Codable, Equatable, Sendable {
    /// cifar10, cifar100, stl10, folder or synthetic.
    public var dataset: DatasetSpec.Name = .synthetic
    /// Data folder ("" = $SIMCLR_DATA or ~/.cache/swift-simclr/data; folder: the image folder).
    public var dataDir: String = ""
    /// Download CIFAR / STL-10 when missing.
    public var download: Bool = false
    /// CIFAR-10: training batches held out as the "val" split.
    public var valBatches: [Int] = []
    /// Image folders: skip or stop on an undecodable image.
    public var onBadImage: ImageFolderDataset.BadImagePolicy = .skip
    /// Synthetic: images in the training split (the val and test splits have a fifth, at least 1,000).
    public var syntheticCount: Int = 10_000
    /// Side of the views (and of synthetic images).
    public var imageSize: Int = 32
    /// Image folders: where decoded pixels are cached ("" = $SIMCLR_CACHE, else ~/.cache/swift-simclr).
    public var cacheDir: String = ""
    /// The split pretraining reads (default per dataset: stl10 train+unlabeled, else train).
    public var trainSplit: DatasetSplit = .train
    /// CIFAR-100: fine (100 classes) or coarse (20 superclasses) labels.
    public var cifar100Labels: CIFARDataset.LabelKind = .fine
    /// Image folders: a second folder with the same class sub-folders, read as the "val" split.
    public var valDir: String = ""
    /// Image folders: the fraction of each class held out as the "val" split (0: none).
    public var valFraction: Double = 0
    /// Image folders: the seed that picks the images `valFraction` holds out.
    public var splitSeed: UInt64 = 0

    enum CodingKeys: String, CodingKey {
        case dataset, download
        case dataDir = "data_dir", valBatches = "val_batches", onBadImage = "on_bad_image"
        case syntheticCount = "synthetic_count", imageSize = "image_size", cacheDir = "cache_dir"
        case trainSplit = "train_split", cifar100Labels = "cifar100_labels", valDir = "val_dir", valFraction = "val_fraction"
        case splitSeed = "split_seed"
    }

    public init() {}

    /// The defaults of `dataset` (its natural image size and its pretraining split).
    public init(dataset: DatasetSpec.Name) {
        self.dataset = dataset
        imageSize = DatasetRecipe.of(dataset).imageSize
        trainSplit = DatasetRecipe.of(dataset).trainSplit
    }

    /// The dataset's defaults table row.
    public var recipe: DatasetRecipe { .of(dataset) }

    /// The labelled split that kNN / linear evaluation reports on (nil: the dataset has none):
    /// cifar10 "val" with --val-batches, else "test"; cifar100 and stl10 "test"; synthetic "val";
    /// folder "val" with --val-dir or --val-fraction, else none.
    public var evaluationSplit: DatasetSplit? {
        switch dataset {
        case .cifar10: return valBatches.isEmpty ? .test : .validation
        case .cifar100, .stl10: return .test
        case .synthetic: return .validation
        case .folder: return folderHeldOut == .none ? nil : .validation
        }
    }

    /// The labelled split evaluation fits on (the kNN bank, the linear probe's training set): "train".
    public var labelledTrainingSplit: DatasetSplit { .train }

    /// Where an image folder's "val" split comes from.
    public var folderHeldOut: FolderHeldOut {
        if !valDir.isEmpty { return .directory(URL(fileURLWithPath: valDir)) }
        if valFraction > 0 { return .fraction(valFraction, seed: splitSeed) }
        return .none
    }

    /// The reader's spec for `split`.
    public func spec(split: DatasetSplit, showProgress: Bool = true) -> DatasetSpec {
        var s = DatasetSpec(name: dataset, dataDirectory: dataDir.isEmpty ? nil : URL(fileURLWithPath: dataDir), split: split)
        s.validationBatches = valBatches
        s.onBadImage = onBadImage
        s.syntheticCount = split == .train ? syntheticCount : max(1000, syntheticCount / 5)
        s.syntheticResolution = imageSize
        s.download = download
        s.showProgress = showProgress
        s.cifar100Labels = cifar100Labels
        if dataset == .folder {
            s.cacheDirectory = cacheDir.isEmpty ? DatasetSpec.defaultCacheDirectory : URL(fileURLWithPath: cacheDir)
            s.folderHeldOut = folderHeldOut
        }
        return s
    }

    /// Opens `split`.
    public func open(_ split: DatasetSplit, showProgress: Bool = true) throws -> any ImageDataset {
        try spec(split: split, showProgress: showProgress).make()
    }

    /// The dataset's view distribution at this image size (evaluation uses its size and normalisation).
    public func augmentation(views: Int = 2) -> AugmentationConfig { recipe.augmentation(size: imageSize, views: views) }

    // MARK: Validation

    /// Checks every value; `origins` says where each came from, for the message.
    public func validate(_ origins: ConfigOrigins = .code) throws {
        let bad = origins.refusal
        if dataset == .folder && dataDir.isEmpty { throw bad("data_dir", "(none)", "the image folder for --dataset folder") }
        if !valBatches.isEmpty {
            guard dataset == .cifar10 else { throw bad("val_batches", valBatches, "no value: only cifar10 has training batches to hold out") }
            guard valBatches.allSatisfy({ (1...5).contains($0) }), Set(valBatches).count == valBatches.count, valBatches.count < 5 else {
                throw bad("val_batches", valBatches, "distinct batch numbers in 1...5, at most 4 of them")
            }
        }
        guard syntheticCount >= 1 else { throw bad("synthetic_count", syntheticCount, "an integer >= 1") }
        guard imageSize >= 8 && imageSize <= 1024 else { throw bad("image_size", imageSize, "a side in 8...1024 pixels") }
        try validateSplits(origins)
    }

    /// Resolves layers (later wins) over the defaults of the dataset they name, and validates.
    public static func resolve(_ layers: [ConfigLayer]) throws -> DatasetSettings {
        let name = try TrainConfig.datasetName(in: layers)
        let layered = try Layered(defaults: DatasetSettings(dataset: name), layers: layers, expected: TrainConfig.expectation)
        try layered.value.validate(layered.origins)
        return layered.value
    }
}
