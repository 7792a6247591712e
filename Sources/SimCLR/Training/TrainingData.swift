// What a training run reads: any `ImageDataset` for pretraining (a built-in reader or the
// caller's own), and optionally two labelled splits: the kNN monitor's bank and queries, also
// used for the end-of-run nearest-neighbour picture.
import Foundation

/// The images a run trains on, and the labelled splits its kNN monitor and neighbour picture use.
public struct TrainingData: Sendable {
    /// Pretraining images (labels, if any, are not used).
    public var train: any ImageDataset
    /// The labelled training images (kNN bank, neighbours) and the held-out images scored against
    /// them (kNN queries, the picture's query rows). The kNN monitor runs when `knn_interval` > 0.
    public var monitor: (bank: any ImageDataset, queries: any ImageDataset)?

    public init(train: any ImageDataset, monitor: (bank: any ImageDataset, queries: any ImageDataset)? = nil) {
        self.train = train
        self.monitor = monitor
    }

    /// Opens the dataset `config` names: its pretraining split (`train_split`) and, when it has
    /// a labelled evaluation split, the labelled training split as the bank (the pretraining
    /// dataset itself when it is that split) and the evaluation split as the queries. With the
    /// kNN monitor off, labelled splits that fail to open are left out instead of stopping the run.
    public static func open(_ config: TrainConfig, showProgress: Bool = true) throws -> TrainingData {
        let d = config.data
        let train = try d.open(d.trainSplit, showProgress: showProgress)
        guard let split = d.evaluationSplit else { return TrainingData(train: train) }
        func labelled() throws -> (bank: any ImageDataset, queries: any ImageDataset) {
            let bank = d.trainSplit == d.labelledTrainingSplit ? train : try d.open(d.labelledTrainingSplit, showProgress: showProgress)
            return (bank, try d.open(split, showProgress: showProgress))
        }
        if config.runtime.knnInterval > 0 { return TrainingData(train: train, monitor: try labelled()) }
        return TrainingData(train: train, monitor: try? labelled())
    }
}
