// Convolution primitives: 2-D convolution without bias, forward, backward-data and
// backward-weights, computed directly or with Winograd.

import CDNNL

/// A 2-D convolution without bias, as oneDNN describes it:
///
///     dst[n, o, i, j] = sum_{c, u, v} weights[o, c, u, v] * src[n, c, s_h i + u - p_h, s_w j + v - p_w]
///
/// with src [N, C, H, W], weights [O, C, KH, KW], dst [N, O, OH, OW] and the same padding p on
/// both sides of each spatial dimension. Any of the three layouts may be `MemoryDesc.any` (the
/// primitive chooses; read its choice with `Primitive.md(_:_:)`). For backward-data, `src`
/// describes dL/dsrc and `dst` dL/ddst; for backward-weights, `weights` describes dL/dweights.
public struct ConvolutionDescriptor: Sendable {
    /// How oneDNN computes the convolution.
    public enum Algorithm: Sendable {
        /// Direct convolution (oneDNN's `jit:*` kernels, or its reference code).
        case direct
        /// Winograd F(4x4, 3x3) (`jit_wino_4x3`): 3x3 stride-1 only, AVX-512 only; elsewhere
        /// creating the primitive throws "unimplemented".
        case winograd

        var raw: dnnl_alg_kind_t {
            switch self {
            case .direct: return dnnl_convolution_direct
            case .winograd: return dnnl_convolution_winograd
            }
        }
    }

    /// Which of the three convolution primitives to create.
    public enum Pass: Sendable {
        /// dst from src and weights.
        case forward(ForwardKind)
        /// dL/dsrc from dL/ddst and weights (a transposed convolution).
        case backwardData
        /// dL/dweights from src and dL/ddst (summed over the batch).
        case backwardWeights
    }

    public var algorithm: Algorithm
    public var src: MemoryDesc, weights: MemoryDesc, dst: MemoryDesc
    /// [s_h, s_w] and [p_h, p_w].
    public var strides: [Int], padding: [Int]

    public init(_ algorithm: Algorithm, src: MemoryDesc, weights: MemoryDesc, dst: MemoryDesc, strides: [Int], padding: [Int]) {
        precondition(strides.count == 2 && padding.count == 2, "ConvolutionDescriptor: 2-D strides and padding")
        self.algorithm = algorithm
        self.src = src
        self.weights = weights
        self.dst = dst
        self.strides = strides
        self.padding = padding
    }

    /// The primitive for `pass`; `hint` is the forward (training) primitive a backward one is
    /// created for, if any. Bind forward: `Arg.src`, `Arg.weights`, `Arg.dst`; backward-data:
    /// `Arg.diffDst`, `Arg.weights`, `Arg.diffSrc`; backward-weights: `Arg.src`, `Arg.diffDst`,
    /// `Arg.diffWeights`.
    public func primitive(_ pass: Pass, name: String, hint: Primitive? = nil) throws -> Primitive {
        var s = src.raw, w = weights.raw, d = dst.raw
        let alg = algorithm.raw, st = dnnlDims(strides), pad = dnnlDims(padding)
        typealias Desc = dnnl_convolution_desc_t
        switch pass {
        case .forward(let kind):
            return try Primitive(name, Desc.self, initCall: "dnnl_convolution_forward_desc_init", hint: hint) { cd in
                withDims(st) { st in withDims(pad) { p in
                    dnnl_convolution_forward_desc_init(cd, kind.raw, alg, &s, &w, nil, &d, st, p, p)
                } }
            }
        case .backwardData:
            return try Primitive(name, Desc.self, initCall: "dnnl_convolution_backward_data_desc_init", hint: hint) { cd in
                withDims(st) { st in withDims(pad) { p in
                    dnnl_convolution_backward_data_desc_init(cd, alg, &s, &w, &d, st, p, p)
                } }
            }
        case .backwardWeights:
            return try Primitive(name, Desc.self, initCall: "dnnl_convolution_backward_weights_desc_init", hint: hint) { cd in
                withDims(st) { st in withDims(pad) { p in
                    dnnl_convolution_backward_weights_desc_init(cd, alg, &s, &w, nil, &d, st, p, p)
                } }
            }
        }
    }
}
