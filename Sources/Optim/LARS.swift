// LARS (layer-wise adaptive rate scaling, You et al. 2017) exactly as the official SimCLR code's
// LARSOptimizer with its defaults (classic momentum, trust coefficient 0.001), biases and
// BatchNorm parameters excluded from both weight decay and the trust ratio.

import TensorCore

/// LARS as in google-research/simclr `lars_optimizer.py` (classic momentum).
///
/// Per parameter w with gradient g (wd and the trust ratio only for weights, i.e. not biases or
/// BatchNorm parameters):
///
///     g' = g + wd * w
///     trust = eta * ||w|| / ||g'||   if ||w|| > 0 and ||g'|| > 0, else 1
///     v = m * v + lr * trust * g'
///     w = w - (nesterov ? m * v + lr * trust * g' : v)
///
/// Excluded parameters get plain momentum SGD (trust 1, no decay) in the same form. The learning
/// rate enters the velocity (classic momentum), unlike torch.optim.SGD. Norms are accumulated in
/// Double. State keys: "<name>.momentum".
public final class LARS: Optimizer {
    public var kind: OptimizerKind { .lars }
    public let parameters: [Parameter]
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    /// eta in the trust ratio (0.001 in the official code).
    public let trustCoefficient: Float
    private let velocities: [Tensor]
    /// Trust ratio of each parameter at the last step (1 for excluded ones), for logging.
    public private(set) var lastTrustRatios: [Float]

    /// Throws `OptimizerError.invalidSetting` for momentum outside [0, 1), negative weight decay or
    /// a trust coefficient <= 0.
    public init(
        parameters: [Parameter], momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 0,
        trustCoefficient: Float = 0.001
    ) throws {
        try require(momentum >= 0 && momentum < 1, "momentum", momentum, "a value in [0, 1)")
        try require(weightDecay >= 0 && weightDecay.isFinite, "weight decay", weightDecay, "a finite value >= 0")
        try require(
            trustCoefficient > 0 && trustCoefficient.isFinite, "trust coefficient", trustCoefficient, "a finite value > 0")
        checkUniqueNames(parameters)
        self.parameters = parameters
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.trustCoefficient = trustCoefficient
        self.velocities = zeroBuffers(parameters)
        self.lastTrustRatios = [Float](repeating: 1, count: parameters.count)
    }

    public func step(learningRate lr: Float) {
        let m = momentum
        for (index, p) in parameters.enumerated() {
            let w = p.value.data, g = p.grad.data, v = velocities[index].data, n = p.value.count
            let adapted = !p.role.isExcludedFromDecayAndAdaptation
            let wd = adapted ? weightDecay : 0
            var trust: Float = 1
            if adapted {
                let wNorm = squaredNorm(w, count: n).squareRoot()
                let gNorm = squaredNorm(g, plus: wd, times: w, count: n).squareRoot()
                if wNorm > 0 && gNorm > 0 { trust = Float(Double(trustCoefficient) * wNorm / gNorm) }
            }
            lastTrustRatios[index] = trust
            let scaled = lr * trust
            if nesterov {
                for k in 0..<n {
                    let d = scaled * (g[k] + wd * w[k])
                    let vk = m * v[k] + d
                    v[k] = vk
                    w[k] -= m * vk + d
                }
            } else {
                for k in 0..<n {
                    let vk = m * v[k] + scaled * (g[k] + wd * w[k])
                    v[k] = vk
                    w[k] -= vk
                }
            }
        }
    }

    public func state() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (p, v) in zip(parameters, velocities) { out[p.name + ".momentum"] = v.copy() }
        return out
    }

    public func loadState(_ state: [String: Tensor]) throws {
        let keys = parameters.map { $0.name + ".momentum" }
        try refuseUnknownKeys(state, expected: Set(keys))
        try restore(state, Array(zip(keys, velocities)).map { (key: $0.0, buffer: $0.1) })
    }
}
