// SGD with momentum, optional Nesterov momentum and L2 weight decay, matching torch.optim.SGD
// (dampening 0): the learning rate multiplies the momentum buffer, not the gradient entering it.

import TensorCore

/// Stochastic gradient descent with momentum (Sutskever et al. 2013), as torch.optim.SGD.
///
/// Per parameter w with gradient g, momentum m, weight decay wd (skipped for biases and BatchNorm
/// parameters when `excludeNormAndBiasFromDecay`):
///
///     d = g + wd * w
///     b = m * b + d                 (b starts at 0, so the first b is d, as PyTorch)
///     w = w - lr * (nesterov ? d + m * b : b)
///
/// With m = 0 there is no buffer: w = w - lr * d. State keys: "<name>.momentum_buffer".
public final class SGD: Optimizer {
    public var kind: OptimizerKind { .sgd }
    public let parameters: [Parameter]
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public let excludeNormAndBiasFromDecay: Bool
    private let buffers: [Tensor]

    /// Throws `OptimizerError.invalidSetting` for momentum outside [0, 1), negative weight decay,
    /// or Nesterov without momentum.
    public init(
        parameters: [Parameter], momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 0,
        excludeNormAndBiasFromDecay: Bool = false
    ) throws {
        try require(momentum >= 0 && momentum < 1, "momentum", momentum, "a value in [0, 1)")
        try require(weightDecay >= 0 && weightDecay.isFinite, "weight decay", weightDecay, "a finite value >= 0")
        try require(!nesterov || momentum > 0, "momentum", momentum, "a value > 0 with Nesterov momentum")
        checkUniqueNames(parameters)
        self.parameters = parameters
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.excludeNormAndBiasFromDecay = excludeNormAndBiasFromDecay
        self.buffers = momentum > 0 ? zeroBuffers(parameters) : []
    }

    public func step(learningRate lr: Float) {
        let m = momentum
        for (index, p) in parameters.enumerated() {
            let w = p.value.data, g = p.grad.data, n = p.value.count
            let wd = excludeNormAndBiasFromDecay && p.role.isExcludedFromDecayAndAdaptation ? 0 : weightDecay
            if m == 0 {
                for k in 0..<n { w[k] -= lr * (g[k] + wd * w[k]) }
                continue
            }
            let b = buffers[index].data
            if nesterov {
                for k in 0..<n {
                    let d = g[k] + wd * w[k]
                    let bk = m * b[k] + d
                    b[k] = bk
                    w[k] -= lr * (d + m * bk)
                }
            } else {
                for k in 0..<n {
                    let bk = m * b[k] + (g[k] + wd * w[k])
                    b[k] = bk
                    w[k] -= lr * bk
                }
            }
        }
    }

    public func state() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (p, b) in zip(parameters, buffers) { out[p.name + ".momentum_buffer"] = b.copy() }
        return out
    }

    public func loadState(_ state: [String: Tensor]) throws {
        let keys = parameters.prefix(buffers.count).map { $0.name + ".momentum_buffer" }
        try refuseUnknownKeys(state, expected: Set(keys))
        try restore(state, Array(zip(keys, buffers)).map { (key: $0.0, buffer: $0.1) })
    }
}
