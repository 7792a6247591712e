// The learning rate of every training step: base rate scaled by the batch size, linear warmup,
// then cosine decay to a floor, as the official SimCLR code (`learning_rate_scaling`,
// `warmup_epochs`, cosine decay), computed per step in Double.

import Foundation

/// Linear warmup then cosine decay, per step.
///
/// peak = base * (batch / 256) for `.linear`, base * sqrt(batch) for `.sqrt`, base for `.none`;
///
///     lr(t) = peak * t / W                                              for t < W (warmup)
///     lr(t) = floor + (peak - floor) * (1 + cos(pi * (t - W) / (T - W))) / 2   for W <= t < T
///     lr(t) = floor                                                     for t >= T
///
/// with W = `warmupSteps`, T = `totalSteps` and t counted from 0 (as the official code, the first
/// warmup step has rate 0). Batch size is the number of images (N), not views.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    /// How the base learning rate grows with the batch size (SimCLR appendix B.1).
    public enum Scaling: String, Sendable, Codable, CaseIterable {
        /// base * batch / 256 (the paper's choice for SGD/LARS at large batches).
        case linear
        /// base * sqrt(batch) (the paper's choice for small batches / long training).
        case sqrt
        /// base as given.
        case none
    }

    public let baseLearningRate: Float
    public let scaling: Scaling
    public let batchSize: Int
    public let warmupSteps: Int
    public let totalSteps: Int
    /// The rate the cosine decays to (0 for the official schedule).
    public let floor: Float

    /// Throws `OptimizerError.invalidSetting` for a base rate <= 0, batch size < 1, total steps < 1,
    /// warmup outside [0, total], or a floor outside [0, peak].
    public init(
        baseLearningRate: Float, scaling: Scaling = .none, batchSize: Int = 256, warmupSteps: Int = 0,
        totalSteps: Int, floor: Float = 0
    ) throws {
        try require(baseLearningRate > 0 && baseLearningRate.isFinite, "learning rate", baseLearningRate, "a finite value > 0")
        guard batchSize >= 1 else {
            throw OptimizerError.invalidSetting(name: "batch size", value: "\(batchSize)", expected: "an integer >= 1")
        }
        guard totalSteps >= 1 else {
            throw OptimizerError.invalidSetting(name: "total steps", value: "\(totalSteps)", expected: "an integer >= 1")
        }
        guard warmupSteps >= 0 && warmupSteps <= totalSteps else {
            throw OptimizerError.invalidSetting(
                name: "warmup steps", value: "\(warmupSteps)", expected: "an integer in 0...\(totalSteps) (total steps)")
        }
        self.baseLearningRate = baseLearningRate
        self.scaling = scaling
        self.batchSize = batchSize
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.floor = floor
        let peak = peakLearningRate
        try require(floor >= 0 && floor <= peak, "learning-rate floor", floor, "a value in [0, \(peak)] (the peak rate)")
    }

    /// The scaled base rate reached at the end of warmup.
    public var peakLearningRate: Float { Float(peak) }

    private var peak: Double {
        let base = Double(baseLearningRate)
        switch scaling {
        case .linear: return base * Double(batchSize) / 256
        case .sqrt: return base * Double(batchSize).squareRoot()
        case .none: return base
        }
    }

    /// The learning rate of step `step` (0-based); negative steps are treated as 0.
    public func lr(atStep step: Int) -> Float {
        let t = max(step, 0)
        if t < warmupSteps { return Float(peak * Double(t) / Double(warmupSteps)) }
        if t >= totalSteps { return floor }
        let progress = Double(t - warmupSteps) / Double(totalSteps - warmupSteps)
        let low = Double(floor)
        return Float(low + (peak - low) * 0.5 * (1 + cos(Double.pi * progress)))
    }
}
