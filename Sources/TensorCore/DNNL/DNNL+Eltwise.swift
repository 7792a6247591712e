// Elementwise primitives and post-ops: ReLU, forward and backward.

import CDNNL

/// An elementwise function oneDNN applies, as a primitive or as a post-op (`PrimitiveAttr`).
public enum EltwiseAlgorithm: Sendable {
    /// y = x > 0 ? x : alpha * x (alpha 0: max(0, x)); its backward reads the source.
    case relu
    /// The same function, with a backward that reads the destination instead:
    /// dx = dy * [y > 0] (alpha 0), so the input need not be kept.
    case reluUsingDst

    var raw: dnnl_alg_kind_t {
        switch self {
        case .relu: return dnnl_eltwise_relu
        case .reluUsingDst: return dnnl_eltwise_relu_use_dst_for_bwd
        }
    }
}

/// An elementwise operation y = f(x) on one layout (`data`, dims and format of x and of y).
public struct EltwiseDescriptor: Sendable {
    public var algorithm: EltwiseAlgorithm
    public var data: MemoryDesc
    /// The function's parameters (for ReLU, alpha is the negative slope; beta is unused).
    public var alpha: Float, beta: Float

    public init(_ algorithm: EltwiseAlgorithm, data: MemoryDesc, alpha: Float = 0, beta: Float = 0) {
        self.algorithm = algorithm
        self.data = data
        self.alpha = alpha
        self.beta = beta
    }

    /// The forward primitive. Bind `Arg.src` and `Arg.dst`.
    public func forward(_ kind: ForwardKind, name: String) throws -> Primitive {
        var d = data.raw
        let (alg, a, b) = (algorithm.raw, alpha, beta)
        return try Primitive(name, dnnl_eltwise_desc_t.self, initCall: "dnnl_eltwise_forward_desc_init") {
            dnnl_eltwise_forward_desc_init($0, kind.raw, alg, &d, a, b)
        }
    }

    /// The backward primitive dx = f'(·) dy, with gradients in layout `diff`; `hint` is a
    /// training forward of this descriptor. Bind `Arg.diffDst`, `Arg.diffSrc` and `Arg.dst`
    /// (`.reluUsingDst`) or `Arg.src` (`.relu`).
    public func backward(diff: MemoryDesc, name: String, hint: Primitive) throws -> Primitive {
        var dd = diff.raw, d = data.raw
        let (alg, a, b) = (algorithm.raw, alpha, beta)
        return try Primitive(name, dnnl_eltwise_desc_t.self, initCall: "dnnl_eltwise_backward_desc_init", hint: hint) {
            dnnl_eltwise_backward_desc_init($0, alg, &dd, &d, a, b)
        }
    }
}
