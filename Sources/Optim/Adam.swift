// Adam (Kingma & Ba 2015) and AdamW (decoupled weight decay, Loshchilov & Hutter 2019), with
// the same arithmetic as torch.optim.Adam / AdamW (bias corrections, epsilon outside the root).

import Foundation
import TensorCore

/// Adam / AdamW, as torch.optim.Adam and torch.optim.AdamW (amsgrad off).
///
/// Per parameter w with gradient g, at step t = 1, 2, ...:
///
///     Adam:  g = g + wd * w                         AdamW: w = w * (1 - lr * wd)
///     m = b1 * m + (1 - b1) * g
///     v = b2 * v + (1 - b2) * g^2
///     w = w - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
///
/// Weight decay is skipped for biases and BatchNorm parameters when `excludeNormAndBiasFromDecay`.
/// State keys: "<name>.exp_avg", "<name>.exp_avg_sq" and "step" (shape [1], exact up to 2^24 steps).
public final class Adam: Optimizer {
    public var kind: OptimizerKind { decoupledWeightDecay ? .adamw : .adam }
    public let parameters: [Parameter]
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    /// True for AdamW: decay multiplies the weights directly instead of entering the gradient.
    public let decoupledWeightDecay: Bool
    public let excludeNormAndBiasFromDecay: Bool
    /// Steps taken so far (t of the last step).
    public private(set) var stepCount = 0
    private let firstMoments: [Tensor]
    private let secondMoments: [Tensor]

    /// Throws `OptimizerError.invalidSetting` for betas outside [0, 1), epsilon <= 0 or negative weight decay.
    public init(
        parameters: [Parameter], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0, decoupledWeightDecay: Bool = false, excludeNormAndBiasFromDecay: Bool = false
    ) throws {
        try require(beta1 >= 0 && beta1 < 1, "beta1", beta1, "a value in [0, 1)")
        try require(beta2 >= 0 && beta2 < 1, "beta2", beta2, "a value in [0, 1)")
        try require(epsilon > 0 && epsilon.isFinite, "epsilon", epsilon, "a finite value > 0")
        try require(weightDecay >= 0 && weightDecay.isFinite, "weight decay", weightDecay, "a finite value >= 0")
        checkUniqueNames(parameters)
        self.parameters = parameters
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        self.excludeNormAndBiasFromDecay = excludeNormAndBiasFromDecay
        self.firstMoments = zeroBuffers(parameters)
        self.secondMoments = zeroBuffers(parameters)
    }

    public func step(learningRate lr: Float) {
        stepCount += 1
        let t = Double(stepCount)
        let b1 = beta1, b2 = beta2, eps = epsilon
        let stepSize = Float(Double(lr) / (1 - pow(Double(b1), t)))
        let invRootCorrection2 = Float(1 / (1 - pow(Double(b2), t)).squareRoot())
        for (index, p) in parameters.enumerated() {
            let w = p.value.data, g = p.grad.data, n = p.value.count
            let m = firstMoments[index].data, v = secondMoments[index].data
            let decays = !(excludeNormAndBiasFromDecay && p.role.isExcludedFromDecayAndAdaptation)
            let wd = decays ? weightDecay : 0
            if decoupledWeightDecay {
                let shrink = 1 - lr * wd
                if shrink != 1 { for k in 0..<n { w[k] *= shrink } }
                for k in 0..<n {
                    let gk = g[k]
                    let mk = b1 * m[k] + (1 - b1) * gk
                    let vk = b2 * v[k] + (1 - b2) * gk * gk
                    m[k] = mk
                    v[k] = vk
                    w[k] -= stepSize * mk / (vk.squareRoot() * invRootCorrection2 + eps)
                }
            } else {
                for k in 0..<n {
                    let gk = g[k] + wd * w[k]
                    let mk = b1 * m[k] + (1 - b1) * gk
                    let vk = b2 * v[k] + (1 - b2) * gk * gk
                    m[k] = mk
                    v[k] = vk
                    w[k] -= stepSize * mk / (vk.squareRoot() * invRootCorrection2 + eps)
                }
            }
        }
    }

    public func state() -> [String: Tensor] {
        var out: [String: Tensor] = ["step": Tensor(shape: [1], values: [Float(stepCount)])]
        for (index, p) in parameters.enumerated() {
            out[p.name + ".exp_avg"] = firstMoments[index].copy()
            out[p.name + ".exp_avg_sq"] = secondMoments[index].copy()
        }
        return out
    }

    public func loadState(_ state: [String: Tensor]) throws {
        var expected: Set<String> = ["step"]
        for p in parameters { expected.insert(p.name + ".exp_avg"); expected.insert(p.name + ".exp_avg_sq") }
        try refuseUnknownKeys(state, expected: expected)
        guard let step = state["step"] else { throw OptimizerError.missingState(key: "step") }
        guard step.shape == [1] else { throw OptimizerError.stateShapeMismatch(key: "step", shape: step.shape, expected: [1]) }
        let t = step[0]
        guard t >= 0, t == t.rounded() else {
            throw OptimizerError.invalidSetting(name: "state 'step'", value: "\(t)", expected: "a whole number >= 0")
        }
        var targets: [(key: String, buffer: Tensor)] = []
        for (index, p) in parameters.enumerated() {
            targets.append((p.name + ".exp_avg", firstMoments[index]))
            targets.append((p.name + ".exp_avg_sq", secondMoments[index]))
        }
        try restore(state, targets)
        stepCount = Int(t)
    }
}
