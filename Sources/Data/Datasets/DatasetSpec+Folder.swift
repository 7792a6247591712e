// The splits of an image folder. `train` is the folder (or, with a held-out fraction, the part
// of it not held out); `val` is a second folder with the same class sub-folders (`--val-dir`) or
// a class-stratified, seeded part of the folder (`--val-fraction`, see `StratifiedSplit`).
// Without either, `val` is refused: an image folder has no split of its own to score on.
import Foundation

/// Where an image folder's held-out `val` split comes from.
public enum FolderHeldOut: Sendable, Equatable {
    /// None: only `train` exists.
    case none
    /// A second folder with the same class sub-folders.
    case directory(URL)
    /// About this fraction of each class, chosen by the seed (the rest is `train`).
    case fraction(Double, seed: UInt64)
}

extension DatasetSpec {
    /// Opens `split` of the image folder `dataDirectory`.
    func makeFolder() throws -> any ImageDataset {
        guard let dataDirectory else {
            throw DatasetError.invalidOption(name: "--data-dir", value: "(none)", expected: "the image folder to read")
        }
        func open(_ directory: URL) throws -> ImageFolderDataset {
            try ImageFolderDataset(directory: directory, onBadImage: onBadImage, cacheDirectory: cacheDirectory,
                                   showProgress: showProgress)
        }
        switch (split, folderHeldOut) {
        case (.train, .none), (.train, .directory):
            return try open(dataDirectory)
        case let (.validation, .directory(valDirectory)):
            try Self.checkSameClasses(valDirectory, as: dataDirectory)
            return try open(valDirectory)
        case let (_, .fraction(fraction, seed)):
            let folder = try open(dataDirectory)
            let parts = StratifiedSplit(names: (0..<folder.count).map(folder.path(at:)),
                                        labels: (0..<folder.count).map(folder.label(at:)), fraction: fraction, seed: seed)
            return split == .train
                ? DatasetSubset(folder, indices: parts.train, name: folder.name + "/train")
                : DatasetSubset(folder, indices: parts.heldOut, name: folder.name + "/val")
        default:
            throw DatasetError.noHeldOutSplit(path: dataDirectory.path)
        }
    }

    /// Refuses a validation folder whose class sub-folders differ from the training folder's.
    static func checkSameClasses(_ valDirectory: URL, as trainDirectory: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: valDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError.missingFile(path: valDirectory.path, expected: "the validation image folder (--val-dir)")
        }
        let trainClasses = try ImageFolderDataset.classNames(in: trainDirectory)
        let valClasses = try ImageFolderDataset.classNames(in: valDirectory)
        guard trainClasses == valClasses else {
            throw DatasetError.classesDiffer(path: valDirectory.path, trainingFolder: trainDirectory.path,
                                             missing: trainClasses.filter { !valClasses.contains($0) },
                                             extra: valClasses.filter { !trainClasses.contains($0) })
        }
    }
}
