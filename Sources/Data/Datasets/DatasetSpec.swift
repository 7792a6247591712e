// One entry point from command-line options to a dataset: `DatasetSpec(...).make()`.
// It resolves the data folder, downloads the official archive when asked (`--download`) and
// the files are missing, and opens the reader for the requested split.
import Foundation

/// Which dataset, where, which split and with which options; `make()` opens it.
public struct DatasetSpec: Sendable, Equatable {
    /// The datasets swift-simclr reads.
    public enum Name: String, Sendable, CaseIterable, Codable {
        case cifar10, cifar100, stl10, folder, synthetic
    }

    public var name: Name
    /// The folder holding the data (for `folder`: the image folder itself). nil: `defaultDataDirectory`.
    public var dataDirectory: URL?
    /// cifar10: train | val | test | batches:1,2,...; cifar100: train | test;
    /// stl10: train | test | unlabeled | train+unlabeled; synthetic: train | val | test; folder: train | val.
    public var split: DatasetSplit
    /// CIFAR-10 training batches held out as the `val` split (and removed from `train`).
    public var validationBatches: [Int] = []
    /// CIFAR-100 label granularity.
    public var cifar100Labels: CIFARDataset.LabelKind = .fine
    /// Image folders: skip or stop on an undecodable image.
    public var onBadImage: ImageFolderDataset.BadImagePolicy = .skip
    /// Image folders: where to cache decoded pixels (nil: keep them in memory).
    public var cacheDirectory: URL?
    /// Image folders: where the held-out `val` split comes from.
    public var folderHeldOut: FolderHeldOut = .none
    /// Synthetic: number of images in the split.
    public var syntheticCount: Int = 10_000
    /// Synthetic: image side.
    public var syntheticResolution: Int = 32
    /// Synthetic: generation seed (val and test use seeds derived from it).
    public var seed: UInt64 = 0
    /// Download the official archive into `dataDirectory` if the files are missing.
    public var download: Bool = false
    /// Show a progress bar while downloading / decoding.
    public var showProgress: Bool = true

    public init(name: Name, dataDirectory: URL? = nil, split: DatasetSplit = .train) {
        self.name = name
        self.dataDirectory = dataDirectory
        self.split = split
    }

    /// Parses a dataset name, with an error listing the valid ones.
    public static func parseName(_ text: String) throws -> Name {
        guard let name = Name(rawValue: text.lowercased()) else {
            throw DatasetError.invalidOption(name: "--dataset", value: text,
                                             expected: "one of \(Name.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return name
    }

    /// `$SIMCLR_DATA`, else `~/.cache/swift-simclr/data`.
    public static var defaultDataDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["SIMCLR_DATA"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-simclr/data")
    }

    /// `$SIMCLR_CACHE`, else `~/.cache/swift-simclr`: where image folders' decoded pixels are cached.
    public static var defaultCacheDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["SIMCLR_CACHE"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-simclr")
    }

    /// Opens the dataset (downloading first when `download` is set and files are missing).
    public func make() throws -> any ImageDataset {
        guard name.has(split) else {
            throw DatasetError.unknownSplit(dataset: name.rawValue, split: split.description, allowed: name.splitNames)
        }
        let directory = dataDirectory ?? DatasetSpec.defaultDataDirectory
        switch name {
        case .synthetic:
            let salt: UInt64
            switch split {
            case .validation: salt = 0x5EED_0001
            case .test: salt = 0x5EED_0002
            default: salt = 0
            }
            return try SyntheticDataset(count: syntheticCount, resolution: syntheticResolution, seed: seed ^ salt,
                                        name: "synthetic/\(split)")
        case .folder:
            return try makeFolder()
        case .cifar10, .cifar100:
            let variant: CIFARDataset.Variant = name == .cifar10 ? .cifar10 : .cifar100
            let cifarSplit: CIFARDataset.Split
            switch split {  // only the splits `name.has` allows get here
            case .train: cifarSplit = .train
            case .test: cifarSplit = .test
            case let .batches(list): cifarSplit = .batches(list)
            default: cifarSplit = .validation
            }
            try prepare(DatasetArchive.forDataset(name)!, in: directory)
            return try CIFARDataset(variant: variant, directory: directory, split: cifarSplit,
                                    validationBatches: validationBatches, labelKind: cifar100Labels)
        case .stl10:
            let stlSplit: STL10Dataset.Split
            switch split {  // only the splits `name.has` allows get here
            case .train: stlSplit = .train
            case .test: stlSplit = .test
            case .unlabeled: stlSplit = .unlabeled
            default: stlSplit = .trainUnlabeled
            }
            try prepare(.stl10, in: directory)
            return try STL10Dataset(directory: directory, split: stlSplit)
        }
    }

    /// Downloads `archive` if asked and its folder is missing; otherwise leaves the readers to
    /// report missing files, with a hint about `--download`.
    private func prepare(_ archive: DatasetArchive, in directory: URL) throws {
        let folder = directory.appendingPathComponent(archive.extractedFolder)
        let alreadyThere = FileManager.default.fileExists(atPath: folder.path)
            || FileManager.default.fileExists(atPath: directory.appendingPathComponent(archive.markerFile).path)
        if alreadyThere { return }
        if download {
            _ = try DatasetDownloader.ensure(archive, in: directory, showProgress: showProgress)
        } else {
            throw DatasetError.missingFile(
                path: folder.path,
                expected: "the extracted \(archive.fileName) (\(archive.dataset)); run with --download to fetch it from \(archive.url.absoluteString), or put the extracted folder there (or pass --data-dir)")
        }
    }
}
