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
            }
            let l2 = decoupledWeightDecay ? 0 : wd
            let moments = AdamMoments(beta1: b1, beta2: b2, epsilon: eps, l2: l2, stepSize: stepSize, invRootCorrection2: invRootCorrection2)
            moments.update(w: w, g: g, m: m, v: v, count: n)
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

/// The elementwise Adam update on 8-wide vectors (the scalar loop does not vectorise: four
/// possibly-aliasing buffers and a square root), with a scalar tail of the same arithmetic.
private struct AdamMoments {
    let beta1: Float, beta2: Float, epsilon: Float, l2: Float, stepSize: Float, invRootCorrection2: Float

    @inline(__always)
    func update(
        w: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, count n: Int
    ) {
        typealias V = SIMD8<Float>
        let b1 = V(repeating: beta1), c1 = V(repeating: 1 - beta1)
        let b2 = V(repeating: beta2), c2 = V(repeating: 1 - beta2)
        let decay = V(repeating: l2), size = V(repeating: stepSize)
        let root = V(repeating: invRootCorrection2), eps = V(repeating: epsilon)
        let wr = UnsafeMutableRawPointer(w), gr = UnsafeMutableRawPointer(g)
        let mr = UnsafeMutableRawPointer(m), vr = UnsafeMutableRawPointer(v)
        var k = 0
        while k + 8 <= n {
            let o = 4 * k
            let wk = wr.loadUnaligned(fromByteOffset: o, as: V.self)
            let gk = gr.loadUnaligned(fromByteOffset: o, as: V.self) + decay * wk
            let mk = b1 * mr.loadUnaligned(fromByteOffset: o, as: V.self) + c1 * gk
            let vk = b2 * vr.loadUnaligned(fromByteOffset: o, as: V.self) + c2 * gk * gk
            mr.storeBytes(of: mk, toByteOffset: o, as: V.self)
            vr.storeBytes(of: vk, toByteOffset: o, as: V.self)
            wr.storeBytes(of: wk - size * mk / (vk.squareRoot() * root + eps), toByteOffset: o, as: V.self)
            k += 8
        }
        while k < n {
            let gk = g[k] + l2 * w[k]
            let mk = beta1 * m[k] + (1 - beta1) * gk
            let vk = beta2 * v[k] + (1 - beta2) * gk * gk
            m[k] = mk
            v[k] = vk
            w[k] -= stepSize * mk / (vk.squareRoot() * invRootCorrection2 + epsilon)
            k += 1
        }
    }
}
