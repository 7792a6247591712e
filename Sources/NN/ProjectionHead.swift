// The projection head g of SimCLR: an MLP from the representation h to the space z where the
// contrastive loss is applied. Default (the paper, and ResNetSimCLR in PyTorch):
// Linear(d, d) - ReLU - Linear(d, 128). Options: number of Linear layers, hidden width, output
// dimension, BatchNorm after each Linear (SimCLRv2 style; those Linears then have no bias).
// Evaluation throws the head away and uses h.
//
// Tensor names follow nn.Sequential indexing under "head.", e.g. head.0.weight, head.2.weight
// (with BN: head.0.weight, head.1.weight/bias/running_mean..., head.3.weight, ...).

import Foundation
import TensorCore

public struct ProjectionHeadConfig: Codable, Equatable, Sendable {
    /// Number of Linear layers (>= 1).
    public var layers: Int
    /// Width of the hidden layers (nil: the input dimension d).
    public var hiddenDim: Int?
    /// Dimension of z.
    public var outputDim: Int
    /// BatchNorm1d after every Linear.
    public var batchNorm: Bool

    public init(layers: Int = 2, hiddenDim: Int? = nil, outputDim: Int = 128, batchNorm: Bool = false) {
        self.layers = layers
        self.hiddenDim = hiddenDim
        self.outputDim = outputDim
        self.batchNorm = batchNorm
    }
}

public final class ProjectionHead {
    public let config: ProjectionHeadConfig
    public let inputDim: Int
    public let layers: [DenseLayer]

    public init(inputDim: Int, config: ProjectionHeadConfig, rng: inout RandomState) {
        precondition(config.layers >= 1 && config.outputDim >= 1 && inputDim >= 1)
        self.config = config
        self.inputDim = inputDim
        var layers: [DenseLayer] = []
        var index = 0
        var dim = inputDim
        let hidden = config.hiddenDim ?? inputDim
        for i in 0..<config.layers {
            let last = i == config.layers - 1
            let out = last ? config.outputDim : hidden
            layers.append(Linear(inputCount: dim, outputCount: out, bias: !config.batchNorm, name: "head.\(index)", rng: &rng))
            index += 1
            if config.batchNorm {
                layers.append(BatchNorm1d(features: out, name: "head.\(index)"))
                index += 1
            }
            if !last {
                layers.append(ReLU())
                index += 1
            }
            dim = out
        }
        self.layers = layers
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }

    /// Forward FLOPs per row (2 per multiply-add of each Linear).
    public var forwardFlops: Double {
        layers.reduce(0) { acc, l in (l as? Linear).map { acc + 2.0 * Double($0.inputCount * $0.outputCount) } ?? acc }
    }

    /// z = g(h), [N, outputDim]. The result belongs to the head (overwritten by the next call).
    public func forward(_ h: Tensor, training: Bool) -> Tensor {
        var x = h
        for l in layers { x = l.forward(x, training: training) }
        return x
    }

    /// dL/dh from dL/dz, writing the head's parameter gradients.
    public func backward(_ dz: Tensor) -> Tensor {
        var g = dz
        for l in layers.reversed() { g = l.backward(g) }
        return g
    }
}

/// The SimCLR network: encoder f and projection head g, kept separate so evaluation can drop g.
public final class SimCLRModel {
    public let encoder: ResNet
    public let head: ProjectionHead

    public init(encoder: ResNetConfig, head: ProjectionHeadConfig, seed: UInt64) {
        var rng = RandomState(seed: seed)
        self.encoder = ResNet(encoder, rng: &rng)
        self.head = ProjectionHead(inputDim: self.encoder.featureDim, config: head, rng: &rng)
    }

    /// Encoder parameters (torchvision names) then head parameters ("head." names).
    public var parameters: [Parameter] { encoder.parameters + head.parameters }
    public var buffers: [Buffer] { encoder.buffers + head.buffers }

    /// z = g(f(x)) in training mode; keep the result before the next call.
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        let h = try encoder.forward(x, training: training)
        return head.forward(h, training: training)
    }

    /// Back-propagates dL/dz through g and f.
    public func backward(_ dz: Tensor) {
        let dh = head.backward(dz)
        encoder.backward(dh)
    }
}
