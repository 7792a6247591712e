// The kNN monitor's features: h of the labelled bank and of the queries with the current encoder
// (BN in eval mode, no augmentation). Those of the last epoch are kept for the neighbour picture,
// so that the end of a monitored run does not extract them twice.
import Foundation

extension TrainingRun {
    /// h of `bank` and `queries` now; the bank's are kept in `finalMonitorBank` after the last epoch.
    func monitorFeatures(bank: any ImageDataset, queries: any ImageDataset) throws
        -> (bank: ExtractedFeatures, queries: ExtractedFeatures)
    {
        let f = try FeatureExtraction.extract(
            encoder: model.encoder, train: bank, eval: queries, augmentation: config.augmentation,
            batchSize: Self.knnBatchSize(config), loaderThreads: config.runtime.loaderThreads, isCancelled: knnShouldStop)
        if epoch == config.optimization.epochs { finalMonitorBank = f.train }
        return (f.train, f.eval)
    }
}
