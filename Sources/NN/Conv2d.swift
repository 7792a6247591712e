// Conv2d: 2-D convolution without bias on oneDNN (forward, backward data, backward weights).
//
// y[n, o, i, j] = sum_{c, u, v} w[o, c, u, v] * x[n, c, s*i + u - p, s*j + v - p]
// Activations stay in the layout oneDNN picks (`format_tag_any`, e.g. nChw16c on AVX-512).
// The weight is kept in plain OIHW (PyTorch's layout, for I/O and the optimizer) and reordered to
// the primitive's layout (into pool memory) before the forward and again before backward-data;
// the weight gradient is reordered back to OIHW.
// 3x3 stride-1 convolutions may run Winograd instead of direct (`ConvolutionAlgorithm`).

import Foundation
import TensorCore

/// How the 3x3 stride-1 convolutions are computed. Everything else always runs oneDNN's direct
/// kernels.
///
/// Winograd F(4x4, 3x3) computes a 4x4 output tile from a 6x6 input tile with 36 multiplications
/// instead of 144; oneDNN 2.6 implements it (`jit_wino_4x3`) for forward, backward-data and
/// backward-weights on AVX-512. Where it pays (forward and backward-weights from 16 channels,
/// backward-data from 32) is a measured rule; the README's "Convolutions" gives the numbers.
/// Its float32 results differ from direct convolution by rounding only (the transforms add a
/// few ulps; `WinogradTests` bounds it against float64). It needs more scratchpad: up to
/// ~300 MiB at batch 512, width 1.0.
///
/// The choice is a fixed rule, not timed at run time, so that a run and its resumption compute
/// the same bits.
public enum ConvolutionAlgorithm: String, CaseIterable, Sendable, Codable {
    /// Winograd for forward and backward-weights from 16 channels (in and out), for
    /// backward-data from 32; direct elsewhere (the default).
    case auto
    /// Direct convolution everywhere (oneDNN's `jit:avx512_core` kernels), as PyTorch's CPU path.
    case direct
    /// Winograd for every 3x3 stride-1 convolution oneDNN implements it for.
    case winograd

    /// Channel count from which `auto` uses Winograd for backward-data (at 16 it was slower).
    public static let autoWinogradMinChannels = 32
    /// Channel count from which `auto` uses Winograd for forward and backward-weights.
    public static let autoWinogradMinChannelsForwardAndWeights = 16
}

public final class Conv2d: PlannedLayer {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    /// [outChannels, inChannels, kernel, kernel], torchvision init: Kaiming normal, fan_out, ReLU gain.
    public let weight: Parameter

    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                name: String, rng: inout RandomState) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let w = Tensor(shape: [outChannels, inChannels, kernel, kernel])
        let std = (2.0 / Float(outChannels * kernel * kernel)).squareRoot()
        for i in 0..<w.count { w[i] = std * rng.normal() }
        weight = Parameter(name: name + ".weight", role: .weight, value: w)
    }

    public var parameters: [Parameter] { [weight] }
    public var buffers: [Buffer] { [] }

    /// The weights in layout `desc`: the plain master copy itself, or a copy made by a reorder op
    /// every step into pool memory that the caller releases after its one reader (so the copies of
    /// all layers share bytes; backward-data makes its own copy again).
    func weights(_ plain: Memory, as desc: MemoryDesc, _ b: PlanBuilder, backward: Bool) throws -> Memory {
        if desc == plain.desc { return plain }
        let copy = b.gradient(desc)
        let r = try Primitive(reorderFrom: plain.desc, to: desc)
        r.bind([(Arg.src, plain), (Arg.dst, copy)])
        if backward { b.backward(r) } else { b.forward(r) }
        return copy
    }

    /// Whether this convolution should try Winograd for `direction` under `algorithm`.
    func usesWinograd(_ algorithm: ConvolutionAlgorithm, _ direction: Direction) -> Bool {
        guard kernel == 3, stride == 1 else { return false }
        switch algorithm {
        case .direct: return false
        case .winograd: return true
        case .auto:
            let channels = min(inChannels, outChannels)
            if case .backwardData = direction { return channels >= ConvolutionAlgorithm.autoWinogradMinChannels }
            return channels >= ConvolutionAlgorithm.autoWinogradMinChannelsForwardAndWeights
        }
    }

    /// Which of the three convolution primitives (forward, backward-data, backward-weights).
    typealias Direction = ConvolutionDescriptor.Pass

    /// A convolution primitive for `direction` computed with `alg` (direct or Winograd) on the
    /// given activation descriptors (`any` lets oneDNN choose), with the weights in the layout it
    /// chooses. Throws `unimplemented` where oneDNN has no kernel (e.g. Winograd off AVX-512).
    func convolution(_ direction: Direction, _ alg: ConvolutionDescriptor.Algorithm, src: MemoryDesc, dst: MemoryDesc,
                     hint: Primitive?) throws -> Primitive {
        let desc = ConvolutionDescriptor(alg, src: src, weights: .any([outChannels, inChannels, kernel, kernel]), dst: dst,
                                         strides: [stride, stride], padding: [padding, padding])
        let tag = alg == .winograd ? " winograd" : ""
        let pass: String
        switch direction {
        case .forward: pass = "fwd"
        case .backwardData: pass = "bwd data"
        case .backwardWeights: pass = "bwd weights"
        }
        return try desc.primitive(direction, name: "conv \(pass)\(tag) \(weight.name)", hint: hint)
    }

    /// The primitive for `direction`: Winograd on the forward's activation layouts where
    /// `algorithm` asks for it and oneDNN implements it, else direct with layouts of its choice.
    func convolution(_ direction: Direction, _ algorithm: ConvolutionAlgorithm, src: MemoryDesc, dst: MemoryDesc,
                     winogradHint: Primitive?, directHint: Primitive?) throws -> Primitive {
        if usesWinograd(algorithm, direction),
           let p = try? convolution(direction, .winograd, src: src, dst: dst, hint: winogradHint) {
            return p
        }
        return try convolution(direction, .direct, src: .any(src.dims), dst: .any(dst.dims), hint: directHint)
    }

    /// Output spatial size for an input of size `n`.
    public func outputSize(_ n: Int) -> Int { (n + 2 * padding - kernel) / stride + 1 }

    public func plan(_ x: Memory, _ b: PlanBuilder, needInputGradient: Bool) throws -> (Memory, BackwardPlanner?) {
        try plan(x, b, needInputGradient: needInputGradient, recomputeInput: nil)
    }

    /// `recomputeInput`, when given, appends backward ops that rebuild x into a pool memory for the
    /// weight gradient, so x need not be kept from the forward pass (the caller may have put it in a
    /// pool memory).
    public func plan(_ x: Memory, _ b: PlanBuilder, needInputGradient: Bool,
                     recomputeInput: ((PlanBuilder) throws -> Memory)?) throws -> (Memory, BackwardPlanner?) {
        let d = x.desc.dims
        precondition(d.count == 4 && d[1] == inChannels, "Conv2d(\(weight.name)): input \(d), expected [N, \(inChannels), H, W]")
        let (n, h, w) = (d[0], d[2], d[3])
        let oh = outputSize(h), ow = outputSize(w)
        precondition(oh > 0 && ow > 0, "Conv2d(\(weight.name)): input \(h)x\(w) too small")
        let wdims = [outChannels, inChannels, kernel, kernel]
        let kind = ForwardKind(training: b.training)
        // The direct primitive fixes the activation layouts (and is the hint for the backward
        // primitives); Winograd, where chosen and implemented, then runs on those same layouts.
        let direct = try convolution(.forward(kind), .direct, src: .any(d), dst: .any([n, outChannels, oh, ow]),
                                     hint: nil)
        let srcFixed = direct.md(.src), dstFixed = direct.md(.dst)
        let algorithm = b.convolutionAlgorithm
        let winogradHint = usesWinograd(algorithm, .forward(kind))
            ? try? convolution(.forward(kind), .winograd, src: srcFixed, dst: dstFixed, hint: nil) : nil
        let fwd = winogradHint ?? direct
        let src = try reordered(x, to: fwd.md(.src), b)
        // Weights: plain master copy -> primitive layout, every forward.
        let wPlain = Memory(.plain(wdims), pointer: UnsafeMutableRawPointer(weight.value.data), owner: weight.value)
        let wMem = try weights(wPlain, as: fwd.md(.weights), b, backward: false)
        let y = b.activation(fwd.md(.dst))
        fwd.bind([(Arg.src, src), (Arg.weights, wMem), (Arg.dst, y)])
        b.forward(fwd)
        b.release(wMem)
        guard b.training else { return (y, nil) }

        let backward: BackwardPlanner = { [weight] dyIn, b in
            let dy = try reordered(dyIn, to: y.desc, b, backward: true)
            if dy !== dyIn { b.release(dyIn) }
            // Direct backward primitives choose their own layouts (`any`): with a fixed plain source
            // (few channels) oneDNN 2.6 would fall back to its reference kernels, 20-100x slower.
            // When they choose what the forward used (the usual case), no reorder is added.
            // The input as the weight gradient needs it: kept, or rebuilt now.
            var gradSrc = src
            if let recomputeInput {
                let rebuilt = try recomputeInput(b)
                gradSrc = try reordered(rebuilt, to: src.desc, b, backward: true)
                if gradSrc !== rebuilt { b.release(rebuilt) }
            }
            // Weight gradient: dW = sum over batch of dy (x) x, in the primitive's layout, then to OIHW.
            let bwdW = try self.convolution(.backwardWeights, algorithm, src: srcFixed, dst: dstFixed,
                                            winogradHint: winogradHint, directHint: direct)
            let gPlain = Memory(.plain(wdims), pointer: UnsafeMutableRawPointer(weight.grad.data), owner: weight.grad)
            let dwDesc = bwdW.md(.diffWeights)
            let dW = dwDesc == gPlain.desc ? gPlain : b.gradient(dwDesc)
            let srcW = try reordered(gradSrc, to: bwdW.md(.src), b, backward: true)
            let dyW = try reordered(dy, to: bwdW.md(.diffDst), b, backward: true)
            bwdW.bind([(Arg.src, srcW), (Arg.diffDst, dyW), (Arg.diffWeights, dW)])
            b.backward(bwdW)
            if srcW !== gradSrc { b.release(srcW) }
            if gradSrc !== src { b.release(gradSrc) }
            if dyW !== dy { b.release(dyW) }
            if dW !== gPlain {
                let r = try Primitive(reorderFrom: dwDesc, to: gPlain.desc)
                r.bind([(Arg.src, dW), (Arg.dst, gPlain)])
                b.backward(r)
                b.release(dW)
            }
            guard needInputGradient else { b.release(dy); return nil }
            // Input gradient: dx = conv_transpose(dy, W). The backward-data kernels want the
            // weights in their own layout (e.g. BAcd16a16b); forcing the forward's layout makes
            // oneDNN fall back to its reference code, 100x slower.
            let bwdD = try self.convolution(.backwardData, algorithm, src: srcFixed, dst: dstFixed,
                                            winogradHint: winogradHint, directHint: direct)
            let wBwdDesc = bwdD.md(.weights)
            let wBwd = try self.weights(wPlain, as: wBwdDesc, b, backward: true)
            let dyD = try reordered(dy, to: bwdD.md(.diffDst), b, backward: true)
            let dx = b.gradient(bwdD.md(.diffSrc))
            bwdD.bind([(Arg.diffDst, dyD), (Arg.weights, wBwd), (Arg.diffSrc, dx)])
            b.backward(bwdD)
            b.release(wBwd)
            if dyD !== dy { b.release(dyD) }
            b.release(dy)
            if dx.desc == x.desc { return dx }
            let dxOut = try reordered(dx, to: x.desc, b, backward: true)
            b.release(dx)
            return dxOut
        }
        return (y, backward)
    }
}
