// What a training run reads: any `ImageDataset` for pretraining (a built-in reader or the
// caller's own), and optionally two labelled splits for the kNN monitor.
import Foundation

/// The images a run trains on, and the labelled splits its kNN monitor scores.
public struct TrainingData: Sendable {
    /// Pretraining images (labels, if any, are not used).
    public var train: any ImageDataset
    /// kNN monitor: the bank of labelled training images and the queries it is scored on
    /// (the monitor runs when `knn_interval` > 0).
    public var monitor: (bank: any ImageDataset, queries: any ImageDataset)?

    public init(train: any ImageDataset, monitor: (bank: any ImageDataset, queries: any ImageDataset)? = nil) {
        self.train = train
        self.monitor = monitor
    }

    /// Opens the dataset `config` names: its pretraining split (`train_split`) and, when the kNN
    /// monitor is on, the labelled training split as the bank (the pretraining dataset itself
    /// when it is that split) and the labelled evaluation split as the queries.
    public static func open(_ config: TrainConfig, showProgress: Bool = true) throws -> TrainingData {
        let d = config.data
        let train = try d.open(d.trainSplit, showProgress: showProgress)
        guard config.runtime.knnInterval > 0, let split = d.evaluationSplit else { return TrainingData(train: train) }
        let bank = d.trainSplit == d.labelledTrainingSplit ? train : try d.open(d.labelledTrainingSplit, showProgress: showProgress)
        return TrainingData(train: train, monitor: (bank, try d.open(split, showProgress: showProgress)))
    }
}
