// kNN evaluation of a frozen encoder on any labelled datasets: h of a bank of training images
// and of the queries (BN in eval mode, no augmentation), then the weighted kNN vote.
import Foundation

/// The kNN protocol's settings (InstDisc: k = 200 neighbours, vote exp(similarity / T), T = 0.1).
public struct KNNOptions: Sendable, Equatable {
    public var k: Int
    public var temperature: Double

    public init(k: Int = 200, temperature: Double = 0.1) {
        self.k = k
        self.temperature = temperature
    }
}

public enum KNNEvaluation {
    /// Top-1 / top-5 (percent) of `queries` voted by their nearest `bank` images in h.
    /// `isCancelled` is asked before each batch of the extraction (true: `CancellationError`).
    public static func run(
        encoder: ResNet, bank: any ImageDataset, queries: any ImageDataset, augmentation: AugmentationConfig,
        options: KNNOptions = KNNOptions(), batchSize: Int = 256, loaderThreads: Int = 1, isCancelled: (() -> Bool)? = nil
    ) throws -> ClassificationAccuracy {
        let f = try FeatureExtraction.extract(encoder: encoder, train: bank, eval: queries, augmentation: augmentation,
                                              batchSize: batchSize, loaderThreads: loaderThreads, isCancelled: isCancelled)
        return try run(bank: f.train, queries: f.eval, options: options)
    }

    /// The same on features already extracted.
    public static func run(bank: ExtractedFeatures, queries: ExtractedFeatures, options: KNNOptions = KNNOptions()) throws
        -> ClassificationAccuracy
    {
        let knn = try KNNClassifier(features: bank.features, labels: try bank.requireLabels(),
                                    classCount: max(bank.classNames.count, 1))
        return try knn.evaluate(queries.features, labels: try queries.requireLabels(), k: options.k,
                                temperature: Float(options.temperature))
    }
}
