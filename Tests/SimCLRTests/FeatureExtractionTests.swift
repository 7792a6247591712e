// Feature extraction: BatchNorm in eval mode (a feature does not depend on the other images of its
// batch, so the batch size does not change it), dataset order, labels, and agreement with a
// direct encoder call on the loader's evaluation batch.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class FeatureExtractionTests: XCTestCase {
    func testFeaturesAreIndependentOfTheBatchAndInDatasetOrder() throws {
        ComputeThreads.set(2)
        let dataset = try SyntheticDataset(count: 11, resolution: 16, seed: 4)
        var rng = RandomState(seed: 1)
        let encoder = ResNet(ResNetConfig(depth: .resnet18, stem: .cifar, width: 0.25), rng: &rng)
        // Make the running statistics non-trivial, so eval mode is distinguishable from batch statistics.
        var inputs = TestRNG(seed: 2)
        _ = try encoder.forward(inputs.tensor([8, 3, 16, 16], 0, 3), training: true)
        let aug = AugmentationConfig.cifar(size: 16)

        let whole = try FeatureExtraction.extract(encoder: encoder, dataset: dataset, augmentation: aug, batchSize: 11)
        let pieces = try FeatureExtraction.extract(encoder: encoder, dataset: dataset, augmentation: aug, batchSize: 3,
                                                   loaderThreads: 2)
        XCTAssertEqual(whole.features.shape, [11, encoder.featureDim])
        assertClose(pieces.features, whole.features, rtol: 1e-5, atol: 1e-6)
        XCTAssertEqual(whole.labels, (0..<11).map { dataset.label(at: $0) })
        XCTAssertEqual(try whole.requireLabels(), (0..<11).map { $0 % 10 })

        // Row i is f(normalised image i) in eval mode.
        let loader = try DataLoader(dataset: dataset, pipeline: AugmentationPipeline(aug),
                                    options: .init(batchSize: 11, mode: .evaluation))
        let batch = try XCTUnwrap(try loader.next())
        let direct = try encoder.forward(batch.images, training: false).copy()
        assertClose(whole.features, direct, rtol: 1e-6, atol: 1e-7)
        let batchStats = try encoder.forward(batch.images, training: true)
        var differs = false
        for i in 0..<direct.count where abs(direct[i] - batchStats[i]) > 1e-3 { differs = true }
        XCTAssertTrue(differs, "eval-mode features should differ from batch-statistics features")
    }
}
