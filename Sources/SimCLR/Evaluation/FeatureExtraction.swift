// Feature extraction for evaluation: the encoder f alone (the projection head is discarded, as in
// the paper's linear evaluation), BatchNorm in eval mode (running statistics), images only
// resized / centre-cropped and normalised (the loader's evaluation mode, no augmentation), in
// dataset order. The result h [N, d] feeds the linear probe, the kNN classifier and `simclr embed`.

import Foundation

/// The representation h of every image of a dataset, with its labels.
public struct ExtractedFeatures: @unchecked Sendable {
    /// h, [N, featureDim], row i = image i.
    public var features: Tensor
    /// Labels in dataset order (nil for unlabeled images).
    public var labels: [Int?]
    /// The dataset's class names.
    public var classNames: [String]
    /// The dataset's name (for messages).
    public var datasetName: String

    /// The labels as integers; throws when the dataset is unlabeled.
    public func requireLabels() throws -> [Int] {
        let known = labels.compactMap { $0 }
        guard known.count == labels.count, !known.isEmpty else {
            throw EvaluationError.empty("labels of \(datasetName) (the split is unlabeled; evaluation needs a labelled split)")
        }
        return known
    }
}

public enum FeatureExtraction {
    /// h = f(x) for every image of `dataset`, in order, with BatchNorm in eval mode.
    ///
    /// - Parameters:
    ///   - augmentation: supplies the view size and the normalisation (mean / std); the loader's
    ///     evaluation mode applies only Resize + CenterCrop + Normalize.
    ///   - batchSize: images per forward pass (memory grows with it).
    ///   - loaderThreads: threads decoding / normalising images ahead of the encoder.
    ///   - progress: called with (images done, total) after each batch.
    ///   - isCancelled: asked before each batch; true stops the extraction with `CancellationError`.
    public static func extract(
        encoder: ResNet, dataset: any ImageDataset, augmentation: AugmentationConfig, batchSize: Int = 256,
        loaderThreads: Int = 1, progress: ((Int, Int) -> Void)? = nil, isCancelled: (() -> Bool)? = nil
    ) throws -> ExtractedFeatures {
        let pipeline = try AugmentationPipeline(augmentation)
        let loader = try DataLoader(
            dataset: dataset, pipeline: pipeline,
            options: .init(batchSize: max(1, batchSize), mode: .evaluation, threads: max(1, loaderThreads)))
        defer { loader.stop() }
        let d = encoder.featureDim
        let features = Tensor(shape: [dataset.count, d])
        var labels = [Int?](repeating: nil, count: dataset.count)
        var done = 0
        while let batch = try loader.next() {
            if isCancelled?() == true { throw CancellationError() }
            let h = try encoder.forward(batch.images, training: false)
            precondition(h.shape == [batch.count, d], "encoder output \(h.shape) for \(batch.count) images")
            for (row, index) in batch.indices.enumerated() {
                (features.data + index * d).update(from: h.data + row * d, count: d)
                labels[index] = batch.labels[row]
            }
            done += batch.count
            progress?(done, dataset.count)
        }
        return ExtractedFeatures(features: features, labels: labels, classNames: dataset.classNames, datasetName: dataset.name)
    }

    /// h = f(x) of one image: its evaluation view (resize, centre crop, normalise as `augmentation`
    /// says), BatchNorm in eval mode. Returns the `featureDim` values of h.
    public static func representation(of image: RGBImage, encoder: ResNet, augmentation: AugmentationConfig) throws -> [Float] {
        guard image.width >= 1, image.height >= 1 else {
            throw AugmentationError.emptyImage(index: 0, width: image.width, height: image.height)
        }
        let renderer = ViewRenderer(pipeline: try AugmentationPipeline(augmentation))
        let s = augmentation.size
        let x = Tensor(shape: [1, 3, s, s])
        renderer.renderEvaluation(image, into: x.data)
        let h = try encoder.forward(x, training: false)
        return Array(UnsafeBufferPointer(start: h.data, count: encoder.featureDim))
    }

    /// h of a training split and of an evaluation split, with the same encoder and view settings.
    public static func extract(
        encoder: ResNet, train: any ImageDataset, eval: any ImageDataset, augmentation: AugmentationConfig,
        batchSize: Int = 256, loaderThreads: Int = 1, isCancelled: (() -> Bool)? = nil
    ) throws -> (train: ExtractedFeatures, eval: ExtractedFeatures) {
        (try extract(encoder: encoder, dataset: train, augmentation: augmentation, batchSize: batchSize, loaderThreads: loaderThreads,
                     isCancelled: isCancelled),
         try extract(encoder: encoder, dataset: eval, augmentation: augmentation, batchSize: batchSize, loaderThreads: loaderThreads,
                     isCancelled: isCancelled))
    }
}
