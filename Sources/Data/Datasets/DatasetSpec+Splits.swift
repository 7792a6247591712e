// Which splits each dataset has: the one rule `DatasetSpec.make`, the settings' checks and the
// messages share.
import Foundation

extension DatasetSpec.Name {
    /// The splits of the dataset, as `DatasetSplit` spells them (`batches:1,2,...` for the CIFAR-10 batch lists).
    public var splitNames: [String] {
        switch self {
        case .cifar10: return ["train", "val", "test", "batches:1,2,..."]
        case .cifar100: return ["train", "test"]
        case .stl10: return ["train", "test", "unlabeled", "train+unlabeled"]
        case .folder: return ["train", "val"]
        case .synthetic: return ["train", "val", "test"]
        }
    }

    /// Whether the dataset has `split` (cifar10 `val` also needs validation batches, folder `val`
    /// a validation folder or fraction: `make` checks those).
    public func has(_ split: DatasetSplit) -> Bool {
        if case .batches = split { return self == .cifar10 }
        return splitNames.contains(split.description)
    }
}
