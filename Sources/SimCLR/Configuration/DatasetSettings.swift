// The dataset settings every command that reads images shares (train, eval, embed, preview,
// bench augment), and the one place they become a `DatasetSpec`.
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
    /// Image folders: where decoded pixels are cached ("" = `<folder>/.simclr-cache`).
    public var cacheDir: String = ""

    enum CodingKeys: String, CodingKey {
        case dataset, download
        case dataDir = "data_dir", valBatches = "val_batches", onBadImage = "on_bad_image"
        case syntheticCount = "synthetic_count", imageSize = "image_size", cacheDir = "cache_dir"
    }

    public init() {}

    /// The defaults of `dataset` (its natural image size).
    public init(dataset: DatasetSpec.Name) {
        self.dataset = dataset
        imageSize = DatasetRecipe.of(dataset).imageSize
    }

    /// The dataset's defaults table row.
    public var recipe: DatasetRecipe { .of(dataset) }

    /// The labelled split that kNN / linear evaluation reports on (nil: the dataset has none):
    /// cifar10 "val" with --val-batches, else "test"; cifar100 and stl10 "test"; synthetic "val".
    public var evaluationSplit: DatasetSplit? {
        switch dataset {
        case .cifar10: return valBatches.isEmpty ? .test : .validation
        case .cifar100, .stl10: return .test
        case .synthetic: return .validation
        case .folder: return nil
        }
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
        if dataset == .folder {
            if !cacheDir.isEmpty {
                s.cacheDirectory = URL(fileURLWithPath: cacheDir)
            } else if !dataDir.isEmpty {
                s.cacheDirectory = URL(fileURLWithPath: dataDir).appendingPathComponent(".simclr-cache")
            }
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
    }

    /// Resolves layers (later wins) over the defaults of the dataset they name, and validates.
    public static func resolve(_ layers: [ConfigLayer]) throws -> DatasetSettings {
        let name = try TrainConfig.datasetName(in: layers)
        let layered = try Layered(defaults: DatasetSettings(dataset: name), layers: layers, expected: TrainConfig.expectation)
        try layered.value.validate(layered.origins)
        return layered.value
    }
}
