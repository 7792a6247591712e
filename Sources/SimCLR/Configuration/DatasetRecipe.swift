// The per-dataset defaults, in one table: the pretraining split, image size, stem, augmentation
// strength, temperature and optimizer. `TrainConfig.defaults(for:)`, `simclr train --help` and
// the README's table all come from here (a test checks the README against `markdownTable`).
//
// Two recipes:
// - CIFAR-like (cifar10, cifar100, synthetic): 32 x 32, CIFAR stem, the PyTorch reference recipe
//   (../shared/bench/torch_simclr_train.py): SGD momentum 0.9, lr 0.12 x B/256, weight decay 5e-4,
//   no warmup, tau 0.5, jitter s = 0.5 and no blur (the paper's Appendix B.9 augmentations).
// - ImageNet-like (stl10, folder): ImageNet stem, the paper's ImageNet recipe: LARS, lr 0.3 x B/256,
//   weight decay 1e-6, 10 warmup epochs (at most the run's epochs), tau 0.1, s = 1.0, blur on.
import Foundation

/// The defaults of one dataset.
public struct DatasetRecipe: Sendable, Equatable {
    public var dataset: DatasetSpec.Name
    /// The split pretraining reads (`--train-split`): STL-10's unlabeled images with its train
    /// split, as the paper and its code pretrain; the training split elsewhere.
    public var trainSplit: DatasetSplit
    /// Side of the training views.
    public var imageSize: Int
    public var stem: ResNetConfig.Stem
    public var temperature: Double
    public var optimizer: OptimizerKind
    /// Base learning rate (scaled linearly by B / 256).
    public var lr: Double
    public var weightDecay: Double
    /// Linear warmup epochs; a run shorter than this warms up over all its epochs.
    public var warmupEpochs: Double

    /// The defaults of `dataset`.
    public static func of(_ dataset: DatasetSpec.Name) -> DatasetRecipe {
        switch dataset {
        case .cifar10, .cifar100, .synthetic:
            return DatasetRecipe(dataset: dataset, trainSplit: .train, imageSize: 32, stem: .cifar, temperature: 0.5, optimizer: .sgd,
                                 lr: 0.12, weightDecay: 5e-4, warmupEpochs: 0)
        case .stl10, .folder:
            return DatasetRecipe(dataset: dataset, trainSplit: dataset == .stl10 ? .trainAndUnlabeled : .train,
                                 imageSize: dataset == .stl10 ? 96 : 224, stem: .imagenet, temperature: 0.1,
                                 optimizer: .lars, lr: 0.3, weightDecay: 1e-6, warmupEpochs: 10)
        }
    }

    /// Every dataset's recipe, in `DatasetSpec.Name` order.
    public static var all: [DatasetRecipe] { DatasetSpec.Name.allCases.map(of) }

    /// The dataset's view distribution at `size` (crop, flip, jitter strength, blur, mean / std).
    public func augmentation(size: Int? = nil, views: Int = 2) -> AugmentationConfig {
        let s = size ?? imageSize
        switch dataset {
        case .cifar10, .cifar100, .synthetic: return .cifar(size: s, views: views)
        case .stl10: return .stl10(size: s, views: views)
        case .folder: return .folders(size: s, views: views)
        }
    }

    /// Colour-jitter strength s of the dataset's augmentation.
    public var jitter: Double { Double(augmentation().jitterStrength) }
    /// Whether the dataset's augmentation blurs.
    public var blur: Bool { augmentation().blur }

    /// The table as Markdown (the README's "Per-dataset defaults").
    public static var markdownTable: String {
        var lines = ["| dataset | train split | size | stem | jitter s | blur | temperature | optimizer | lr (x B/256) | weight decay | warmup epochs |",
                     "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in all {
            lines.append("| \(r.dataset.rawValue) | \(r.trainSplit) | \(r.imageSize) | \(r.stem.rawValue) | \(format(r.jitter)) | \(r.blur ? "on" : "off") | "
                + "\(format(r.temperature)) | \(r.optimizer.rawValue) | \(format(r.lr)) | \(format(r.weightDecay)) | "
                + "\(format(r.warmupEpochs)) |")
        }
        return lines.joined(separator: "\n")
    }

    /// The table as plain text for `--help` (80 columns), then the train split of each dataset
    /// (the splits that differ from the most common one are named).
    public static var helpTable: String {
        var lines = ["  dataset    size stem     jitter blur temp optimizer lr    wd     warmup"]
        for r in all {
            lines.append("  " + [pad(r.dataset.rawValue, 10), pad("\(r.imageSize)", 4), pad(r.stem.rawValue, 8), pad(format(r.jitter), 6),
                                 pad(r.blur ? "on" : "off", 4), pad(format(r.temperature), 4), pad(r.optimizer.rawValue, 9),
                                 pad(format(r.lr), 5), pad(format(r.weightDecay), 6), format(r.warmupEpochs)].joined(separator: " "))
        }
        let splits = all.map(\.trainSplit)
        func uses(_ split: DatasetSplit) -> Int { splits.filter { $0 == split }.count }
        let common = splits.max { uses($0) < uses($1) }!
        let special = all.filter { $0.trainSplit != common }.map { "\($0.trainSplit) for \($0.dataset.rawValue)" }
        lines.append("  --train-split: " + (special + ["\(common) for the others"]).joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    static func format(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e6 ? String(Int(v)) : "\(v)" }
    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
}
