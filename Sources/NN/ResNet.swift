// ResNet encoder f (He et al. 2016) with torchvision's structure and tensor names, the CIFAR or
// ImageNet stem and a width multiplier (the SimCLR paper's ResNet-50 (2x, 4x) and 0.25 for small
// runs). It returns the representation h after global average pooling: there is no fc layer.
//
// A forward pass is planned once per (batch, height, width, training) and replayed; see Plan.swift.

import Foundation
import TensorCore

public struct ResNetConfig: Codable, Equatable, Sendable {
    public enum Depth: Int, Codable, CaseIterable, Sendable {
        case resnet18 = 18, resnet34 = 34, resnet50 = 50
        public var blocks: [Int] {
            switch self {
            case .resnet18: return [2, 2, 2, 2]
            case .resnet34, .resnet50: return [3, 4, 6, 3]
            }
        }
        public var bottleneck: Bool { self == .resnet50 }
        public var name: String { "resnet\(rawValue)" }
        public init?(name: String) {
            guard let d = Depth.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
            self = d
        }
    }

    public enum Stem: String, Codable, CaseIterable, Sendable {
        /// 3x3 stride-1 conv, no max-pool (for 32x32 images).
        case cifar
        /// 7x7 stride-2 conv + 3x3 stride-2 max-pool.
        case imagenet
    }

    public var depth: Depth
    public var stem: Stem
    public var width: Double

    public init(depth: Depth = .resnet18, stem: Stem = .cifar, width: Double = 1.0) {
        self.depth = depth
        self.stem = stem
        self.width = width
    }

    /// Channels of the four stages (before bottleneck expansion): round(64, 128, 256, 512 x width), at least 1.
    public var planes: [Int] { [64, 128, 256, 512].map { max(1, Int((Double($0) * width).rounded())) } }

    /// Dimension of the representation h.
    public var featureDim: Int { planes[3] * (depth.bottleneck ? 4 : 1) }
}

public final class ResNet {
    public let config: ResNetConfig
    public let stemConv: Conv2d
    public let stemNorm: BatchNorm2d
    public let maxPool: MaxPool2d?
    public let blocks: [ResidualBlock]
    let pool = GlobalAvgPool()

    /// Builds the encoder with torchvision's initialisation drawn from `rng`.
    public init(_ config: ResNetConfig, rng: inout RandomState) {
        precondition(config.width > 0, "ResNet: width must be > 0")
        self.config = config
        let p = config.planes
        switch config.stem {
        case .cifar:
            stemConv = Conv2d(inChannels: 3, outChannels: p[0], kernel: 3, stride: 1, padding: 1, name: "conv1", rng: &rng)
            maxPool = nil
        case .imagenet:
            stemConv = Conv2d(inChannels: 3, outChannels: p[0], kernel: 7, stride: 2, padding: 3, name: "conv1", rng: &rng)
            maxPool = MaxPool2d()
        }
        stemNorm = BatchNorm2d(channels: p[0], name: "bn1", fusedReLU: true)
        var blocks: [ResidualBlock] = []
        var inChannels = p[0]
        for (stage, count) in config.depth.blocks.enumerated() {
            for i in 0..<count {
                let block = ResidualBlock(
                    bottleneck: config.depth.bottleneck, inChannels: inChannels, planes: p[stage],
                    stride: (stage > 0 && i == 0) ? 2 : 1, name: "layer\(stage + 1).\(i)", rng: &rng)
                inChannels = block.outChannels
                blocks.append(block)
            }
        }
        self.blocks = blocks
    }

    var layers: [PlannedLayer] {
        var l: [PlannedLayer] = [stemConv, stemNorm]
        if let m = maxPool { l.append(m) }
        return l + blocks + [pool]
    }

    /// Trainable tensors in torchvision state_dict order.
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    /// BatchNorm running statistics (saved, not trained).
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }

    public var featureDim: Int { config.featureDim }

    /// Forward FLOPs of the convolutions for one image of `height` x `width` (1 multiply-add =
    /// 2 FLOPs; BN, ReLU, pooling and adds not counted), the convention of the PyTorch benchmark.
    public func forwardFlops(height: Int, width: Int) -> Double {
        var h = height, w = width
        var total = 0.0
        func conv(_ c: Conv2d, _ h: Int, _ w: Int) -> (Int, Int) {
            let oh = c.outputSize(h), ow = c.outputSize(w)
            total += 2.0 * Double(c.inChannels * c.kernel * c.kernel * c.outChannels * oh * ow)
            return (oh, ow)
        }
        (h, w) = conv(stemConv, h, w)
        if let m = maxPool { h = (h + 2 * m.padding - m.kernel) / m.stride + 1; w = (w + 2 * m.padding - m.kernel) / m.stride + 1 }
        for block in blocks {
            var (bh, bw) = (h, w)
            for c in block.convs { (bh, bw) = conv(c, bh, bw) }
            if let (c, _) = block.downsample { _ = conv(c, h, w) }
            (h, w) = (bh, bw)
        }
        return total
    }

    /// The compiled network behind `forward`/`backward`.
    public lazy var network = PlannedNetwork(layers: layers, flattensOutput: true)

    /// How the 3x3 stride-1 convolutions run (default `.auto`); changing it re-plans.
    public var convolutionAlgorithm: ConvolutionAlgorithm {
        get { network.convolutionAlgorithm }
        set { network.convolutionAlgorithm = newValue }
    }

    /// h = f(x) for a batch x [N, 3, H, W] (plain NCHW, normalised): [N, featureDim]. In training
    /// mode BatchNorm uses batch statistics and updates its running statistics, and `backward`
    /// may follow. The returned tensor is owned by the compiled pass and overwritten by the next call.
    @discardableResult
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == 3, "ResNet.forward: input \(x.shape), expected [N, 3, H, W]")
        return try network.forward(x, training: training)
    }

    /// Back-propagates dL/dh [N, featureDim] through the last training forward pass, writing
    /// every parameter's `grad`.
    public func backward(_ dh: Tensor) {
        network.backward(dh)
    }

    /// The compiled pass for a shape (for memory and primitive-count reports).
    public func compiled(batch: Int, height: Int, width: Int, training: Bool) throws -> PlannedNetwork.CompiledPass {
        try network.compiled(inputShape: [batch, 3, height, width], training: training)
    }

    /// Forgets every compiled pass (frees their memory).
    public func releasePlans() { network.releasePlans() }
}
