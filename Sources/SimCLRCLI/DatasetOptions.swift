// Dataset flags shared by every command that reads images.
import ArgumentParser
import Data
import Foundation

struct DatasetOptions: ParsableArguments {
    @Option(help: "Dataset: cifar10, cifar100, stl10, folder, synthetic.")
    var dataset: String = "synthetic"

    @Option(name: .customLong("data-dir"),
            help: "Folder with the data (folder: the image folder). Default: $SIMCLR_DATA or ~/.cache/swift-simclr/data.")
    var dataDir: String?

    @Flag(help: "Download CIFAR-10/100 or STL-10 from the official location when the files are missing (MD5-checked).")
    var download = false

    @Option(name: .customLong("val-batches"),
            help: "CIFAR-10: training batches held out as the validation split (e.g. 5).")
    var valBatches: String?

    @Option(name: .customLong("on-bad-image"), help: "Image folders: skip or fail on an undecodable image.")
    var onBadImage: String = "skip"

    @Option(name: .customLong("synthetic-count"), help: "Synthetic: images in the training split.")
    var syntheticCount: Int = 10_000

    @Option(name: .customLong("image-size"), help: "Image side (synthetic: generated size; folders: crop size). Default per dataset.")
    var imageSize: Int?

    func validate() throws {
        _ = try DatasetSpec.parseName(dataset)
        guard ["skip", "fail"].contains(onBadImage) else {
            throw ValidationError("--on-bad-image: '\(onBadImage)' is not allowed; expected skip or fail")
        }
        guard syntheticCount >= 1 else { throw ValidationError("--synthetic-count: \(syntheticCount); expected >= 1") }
        if let s = imageSize, s < 8 { throw ValidationError("--image-size: \(s); expected >= 8") }
        _ = try parsedValBatches()
    }

    func parsedValBatches() throws -> [Int] {
        guard let valBatches, !valBatches.isEmpty else { return [] }
        let parts = valBatches.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.allSatisfy({ $0 != nil && (1...5).contains($0!) }) else {
            throw ValidationError("--val-batches: '\(valBatches)'; expected comma-separated batch numbers in 1...5")
        }
        return parts.map { $0! }
    }

    var name: DatasetSpec.Name { (try? DatasetSpec.parseName(dataset)) ?? .synthetic }

    /// The natural image side of the dataset.
    var defaultImageSize: Int {
        switch name {
        case .cifar10, .cifar100, .synthetic: return 32
        case .stl10: return 96
        case .folder: return 224
        }
    }

    /// The spec for `split` ("train", "val", "test", ...).
    func spec(split: String, seed: UInt64 = 0, showProgress: Bool = true) throws -> DatasetSpec {
        var s = DatasetSpec(name: name, dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }, split: split)
        s.validationBatches = try parsedValBatches()
        s.onBadImage = onBadImage == "fail" ? .fail : .skip
        s.syntheticCount = split == "train" ? syntheticCount : max(1000, syntheticCount / 5)
        s.syntheticResolution = imageSize ?? defaultImageSize
        s.seed = seed
        s.download = download
        s.showProgress = showProgress
        if name == .folder, let dir = dataDir {
            s.cacheDirectory = URL(fileURLWithPath: dir).appendingPathComponent(".simclr-cache")
        }
        return s
    }

    /// The paper's augmentation recipe for this dataset (CIFAR: s = 0.5, no blur; others: s = 1, blur).
    func augmentation(size: Int? = nil, views: Int = 2) -> AugmentationConfig {
        let s = size ?? imageSize ?? defaultImageSize
        switch name {
        case .cifar10, .cifar100, .synthetic: return .cifar(size: s, views: views)
        case .stl10: return .stl10(size: s, views: views)
        case .folder: return .folders(size: s, views: views)
        }
    }
}
