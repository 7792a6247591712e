// What the trainer builds from a TrainConfig: the encoder and head configurations, the view
// distribution, the optimizer settings and the learning-rate schedule.
import Foundation

extension TrainConfig {
    public var encoderConfig: ResNetConfig {
        ResNetConfig(depth: model.arch.depth, stem: model.stem, width: model.width)
    }

    public var headConfig: ProjectionHeadConfig {
        ProjectionHeadConfig(layers: model.headLayers, hiddenDim: model.headHidden > 0 ? model.headHidden : nil,
                             outputDim: model.headOut, batchNorm: model.headBn)
    }

    /// The view distribution: the dataset's preset with this run's size, views, jitter, blur and crop.
    public var augmentation: AugmentationConfig {
        var a = data.augmentation(views: optimization.views)
        a.jitterStrength = Float(augment.jitter)
        a.blur = augment.blur
        a.scale = augment.cropMin...1.0
        return a
    }

    public var optimizerSettings: OptimizerSettings {
        OptimizerSettings(momentum: Float(optimization.momentum), weightDecay: Float(optimization.weightDecay))
    }

    /// Warmup then cosine over `stepsPerEpoch * epochs` steps.
    public func schedule(stepsPerEpoch spe: Int) throws -> LearningRateSchedule {
        let o = optimization
        let total = spe * o.epochs
        return try LearningRateSchedule(
            baseLearningRate: Float(o.lr), scaling: o.lrScaling, batchSize: o.batchSize,
            warmupSteps: min(total, Int((o.warmupEpochs * Double(spe)).rounded())), totalSteps: total)
    }
}
