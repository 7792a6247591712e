// Linear evaluation of a frozen encoder on any labelled datasets: a multinomial logistic
// regression on standardised h, fitted on the training images only and scored on the others.
import Foundation

public enum LinearEvaluation {
    /// Fits the probe on h of `train` and reports top-1 / top-5 on `train` and on `eval`.
    public static func run(
        encoder: ResNet, train: any ImageDataset, eval: any ImageDataset, augmentation: AugmentationConfig,
        options: LinearProbeOptions = LinearProbeOptions(), batchSize: Int = 256, loaderThreads: Int = 1
    ) throws -> LinearProbeResult {
        let f = try FeatureExtraction.extract(encoder: encoder, train: train, eval: eval, augmentation: augmentation,
                                              batchSize: batchSize, loaderThreads: loaderThreads)
        return try run(train: f.train, eval: f.eval, options: options)
    }

    /// The same on features already extracted.
    public static func run(
        train: ExtractedFeatures, eval: ExtractedFeatures, options: LinearProbeOptions = LinearProbeOptions(),
        progress: ((LBFGSProgress) -> Void)? = nil
    ) throws -> LinearProbeResult {
        try LinearProbe.run(
            trainFeatures: train.features, trainLabels: try train.requireLabels(), evalFeatures: eval.features,
            evalLabels: try eval.requireLabels(), classCount: max(train.classNames.count, 1), options: options,
            progress: progress)
    }
}
