// Optimizers: one protocol over the `[Parameter]` list a model hands out, so SGD, LARS and Adam
// are each a single loop over contiguous Float buffers (value, grad, state), updated in place.
// The learning rate is passed to every `step` (the trainer takes it from a `LearningRateSchedule`).
//
// Checkpoints: `state()` exports the optimizer's per-parameter buffers keyed
// "<parameter name>.<buffer>" (plus "step" for Adam), and `loadState(_:)` restores them, refusing
// missing, mis-shaped or unknown entries.

import Foundation
import TensorCore

/// A gradient-descent rule over a fixed list of parameters.
public protocol Optimizer: AnyObject {
    /// Which rule this is.
    var kind: OptimizerKind { get }
    /// The parameters updated by `step`, in the order given at creation.
    var parameters: [Parameter] { get }
    /// Applies one update to every parameter from its current `grad`, with learning rate `learningRate`.
    func step(learningRate: Float)
    /// The optimizer's state (momentum / moment buffers, step counter), for checkpoints.
    func state() -> [String: Tensor]
    /// Restores a state written by `state()`; throws `OptimizerError` for missing, mis-shaped or unknown entries.
    func loadState(_ state: [String: Tensor]) throws
}

/// A refused optimizer / schedule setting or checkpoint state.
public enum OptimizerError: LocalizedError, Equatable {
    case invalidSetting(name: String, value: String, expected: String)
    case unknownKind(String)
    case missingState(key: String)
    case stateShapeMismatch(key: String, shape: [Int], expected: [Int])
    case unexpectedState(keys: [String])

    public var errorDescription: String? {
        switch self {
        case .invalidSetting(let name, let value, let expected):
            return "optimizer setting '\(name)' = \(value) is invalid: expected \(expected)"
        case .unknownKind(let s):
            return "unknown optimizer '\(s)': expected one of "
                + OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")
        case .missingState(let key):
            return "optimizer state has no entry '\(key)' (the checkpoint was written for another "
                + "optimizer or model)"
        case .stateShapeMismatch(let key, let shape, let expected):
            return "optimizer state entry '\(key)' has shape \(shape), expected \(expected)"
        case .unexpectedState(let keys):
            let head = keys.sorted().prefix(5).joined(separator: ", ")
            return "optimizer state has \(keys.count) unexpected entr\(keys.count == 1 ? "y" : "ies") "
                + "(\(head)\(keys.count > 5 ? ", ..." : "")): the checkpoint was written for another optimizer or model"
        }
    }
}

/// The optimizers of swift-simclr.
public enum OptimizerKind: String, CaseIterable, Sendable, Codable {
    /// SGD with (optionally Nesterov) momentum and L2 weight decay, as torch.optim.SGD.
    case sgd
    /// LARS as in the official SimCLR code (Chen et al. 2020; You et al. 2017).
    case lars
    /// Adam with L2 weight decay added to the gradient, as torch.optim.Adam.
    case adam
    /// Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW.
    case adamw

    /// Parses a name ("sgd", "lars", "adam", "adamw", case-insensitive); throws `OptimizerError.unknownKind`.
    public init(parsing name: String) throws {
        guard let kind = OptimizerKind(rawValue: name.lowercased()) else { throw OptimizerError.unknownKind(name) }
        self = kind
    }

    /// Creates the optimizer of this kind over `parameters`; throws `OptimizerError` for invalid settings.
    public func make(parameters: [Parameter], settings: OptimizerSettings = OptimizerSettings()) throws -> any Optimizer {
        switch self {
        case .sgd:
            return try SGD(
                parameters: parameters, momentum: settings.momentum, nesterov: settings.nesterov,
                weightDecay: settings.weightDecay, excludeNormAndBiasFromDecay: settings.excludeNormAndBiasFromDecay)
        case .lars:
            return try LARS(
                parameters: parameters, momentum: settings.momentum, nesterov: settings.nesterov,
                weightDecay: settings.weightDecay, trustCoefficient: settings.trustCoefficient)
        case .adam, .adamw:
            return try Adam(
                parameters: parameters, beta1: settings.beta1, beta2: settings.beta2, epsilon: settings.epsilon,
                weightDecay: settings.weightDecay, decoupledWeightDecay: self == .adamw,
                excludeNormAndBiasFromDecay: settings.excludeNormAndBiasFromDecay)
        }
    }
}

/// Hyperparameters for `OptimizerKind.make`; each optimizer reads the ones it uses.
public struct OptimizerSettings: Sendable, Equatable, Codable {
    /// SGD / LARS momentum (LARS default 0.9 as the official code).
    public var momentum: Float = 0.9
    /// SGD / LARS Nesterov momentum.
    public var nesterov: Bool = false
    /// Weight decay (L2 for SGD, LARS and Adam; decoupled for AdamW).
    public var weightDecay: Float = 0
    /// SGD / Adam / AdamW only: skip weight decay on biases and BatchNorm parameters
    /// (LARS always skips them, for decay and trust ratio).
    public var excludeNormAndBiasFromDecay: Bool = false
    /// LARS trust coefficient eta.
    public var trustCoefficient: Float = 0.001
    /// Adam moment decay rates and denominator epsilon.
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8

    public init(
        momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 0, excludeNormAndBiasFromDecay: Bool = false,
        trustCoefficient: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    ) {
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.excludeNormAndBiasFromDecay = excludeNormAndBiasFromDecay
        self.trustCoefficient = trustCoefficient
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }
}

// MARK: - Shared helpers

/// Throws `invalidSetting` unless `ok`.
func require(_ ok: Bool, _ name: String, _ value: Float, _ expected: String) throws {
    if !ok { throw OptimizerError.invalidSetting(name: name, value: "\(value)", expected: expected) }
}

/// Checks that parameter names are unique (they key the state): a programmer error otherwise.
func checkUniqueNames(_ parameters: [Parameter]) {
    var seen = Set<String>()
    for p in parameters {
        precondition(seen.insert(p.name).inserted, "optimizer: duplicate parameter name '\(p.name)'")
    }
}

/// One zero buffer per parameter, shaped like it.
func zeroBuffers(_ parameters: [Parameter]) -> [Tensor] { parameters.map { Tensor(shape: $0.shape) } }

/// Copies `state[key]` into each buffer of `targets` (key, buffer) after checking them all, so a
/// refused state leaves the optimizer unchanged. Throws for a missing / mis-shaped entry.
func restore(_ state: [String: Tensor], _ targets: [(key: String, buffer: Tensor)]) throws {
    var sources: [Tensor] = []
    sources.reserveCapacity(targets.count)
    for (key, buffer) in targets {
        guard let t = state[key] else { throw OptimizerError.missingState(key: key) }
        guard t.shape == buffer.shape else {
            throw OptimizerError.stateShapeMismatch(key: key, shape: t.shape, expected: buffer.shape)
        }
        sources.append(t)
    }
    for (source, target) in zip(sources, targets) { target.buffer.assign(source) }
}

/// Throws `unexpectedState` when `state` has keys outside `expected`.
func refuseUnknownKeys(_ state: [String: Tensor], expected: Set<String>) throws {
    let extra = state.keys.filter { !expected.contains($0) }
    if !extra.isEmpty { throw OptimizerError.unexpectedState(keys: extra) }
}

/// sum_k (x_k + alpha * y_k)^2 (y may be nil), with SIMD Float partial sums folded into a Double
/// every 4096 elements: vectorised, and accurate to ~1e-6 relative for tensors of millions of entries.
func squaredNorm(_ x: UnsafePointer<Float>, plus alpha: Float = 0, times y: UnsafePointer<Float>? = nil, count n: Int) -> Double {
    typealias V = SIMD8<Float>
    var total = 0.0
    var start = 0
    let block = 4096
    let a = V(repeating: alpha)
    while start < n {
        let end = min(n, start + block)
        var acc0 = V(), acc1 = V()
        var k = start
        if let y {
            while k + 16 <= end {
                let v0 = UnsafeRawPointer(x + k).loadUnaligned(as: V.self) + a * UnsafeRawPointer(y + k).loadUnaligned(as: V.self)
                let v1 = UnsafeRawPointer(x + k + 8).loadUnaligned(as: V.self) + a * UnsafeRawPointer(y + k + 8).loadUnaligned(as: V.self)
                acc0 += v0 * v0
                acc1 += v1 * v1
                k += 16
            }
        } else {
            while k + 16 <= end {
                let v0 = UnsafeRawPointer(x + k).loadUnaligned(as: V.self)
                let v1 = UnsafeRawPointer(x + k + 8).loadUnaligned(as: V.self)
                acc0 += v0 * v0
                acc1 += v1 * v1
                k += 16
            }
        }
        var partial = Double((acc0 + acc1).sum())
        while k < end {
            let v = x[k] + (y.map { alpha * $0[k] } ?? 0)
            partial += Double(v * v)
            k += 1
        }
        total += partial
        start = end
    }
    return total
}
