// The rules about splits: which ones a dataset has (the pretraining split must be one of them),
// where an image folder's held-out split comes from, and which split an evaluation may score:
// never one that holds images it was fitted on (the labelled "train" split).
import Foundation

extension DatasetSettings {
    /// Checks `train_split`, `cifar100_labels`, `val_dir`, `val_fraction` against the dataset.
    func validateSplits(_ origins: ConfigOrigins) throws {
        let bad = origins.refusal
        let splits = "a split of \(dataset.rawValue): \(dataset.splitNames.joined(separator: ", "))"
        guard dataset.has(trainSplit) else { throw bad("train_split", trainSplit, splits) }
        if trainSplit == .validation && evaluationSplit != .validation {
            throw bad("train_split", trainSplit, "\(splits) (val needs \(heldOutFlags))")
        }
        if cifar100Labels != .fine && dataset != .cifar100 {
            throw bad("cifar100_labels", cifar100Labels.rawValue, "fine: only cifar100 has coarse labels")
        }
        let folderOnly = "no value: only image folders (--dataset folder) take a held-out folder or fraction"
        if !valDir.isEmpty && dataset != .folder { throw bad("val_dir", valDir, folderOnly) }
        if valFraction != 0 && dataset != .folder { throw bad("val_fraction", valFraction, folderOnly) }
        guard valFraction == 0 || (valFraction > 0 && valFraction < 1) else {
            throw bad("val_fraction", valFraction, "a fraction of each class in (0, 1), e.g. 0.1")
        }
        if !valDir.isEmpty && valFraction != 0 {
            throw bad("val_fraction", valFraction, "no value with --val-dir: the held-out split is a folder or a fraction, not both")
        }
        if !valDir.isEmpty && URL(fileURLWithPath: valDir).standardizedFileURL.path == URL(fileURLWithPath: dataDir).standardizedFileURL.path {
            throw bad("val_dir", valDir, "a folder other than --data-dir (the training images)")
        }
    }

    /// The flags that give `dataset` a held-out "val" split, for messages.
    var heldOutFlags: String { dataset == .folder ? "--val-dir or --val-fraction" : "--val-batches" }

    /// Whether `split` holds images of the labelled training split that evaluation fits on.
    public func holdsTrainingImages(_ split: DatasetSplit) -> Bool {
        switch split {
        case .train, .trainAndUnlabeled: return true
        case let .batches(list): return list.contains { !valBatches.contains($0) }
        case .validation, .test, .unlabeled: return false
        }
    }

    /// The split an evaluation scores: `requested` (--val-split) or `evaluationSplit`. Refuses a
    /// split the dataset lacks, one that holds training images, and an image folder without a
    /// held-out split (saying how to get one).
    public func scoredSplit(requested: DatasetSplit? = nil) throws -> DatasetSplit {
        if dataset == .folder && folderHeldOut == .none && (requested ?? .validation) == .validation {
            throw DatasetError.noHeldOutSplit(path: dataDir)
        }
        guard let split = requested ?? evaluationSplit else { throw DatasetError.noHeldOutSplit(path: dataDir) }
        let setting = ConfigSetting("val_split", from: .flags)
        guard dataset.has(split) else {
            throw TrainConfigError.invalid(setting: setting, value: split.description,
                                           expected: "a split of \(dataset.rawValue): \(dataset.splitNames.joined(separator: ", "))")
        }
        if split == .validation && evaluationSplit != .validation {
            throw TrainConfigError.invalid(setting: setting, value: split.description,
                                           expected: "a split of \(dataset.rawValue) (val needs \(heldOutFlags))")
        }
        guard !holdsTrainingImages(split) else {
            throw TrainConfigError.invalid(
                setting: setting, value: split.description,
                expected: "a split without the \(labelledTrainingSplit) images evaluation is fitted on "
                    + "(default \(evaluationSplit.map(\.description) ?? "none, see \(heldOutFlags)"))")
        }
        return split
    }
}
