// Pooling primitives: max and average pooling over 2-D windows, forward and backward.

import CDNNL

/// 2-D pooling of src [N, C, H, W] into dst [N, C, OH, OW]: each output is the max or the mean
/// of a kernel window at stride s, with padding p on both sides of each spatial dimension
/// (undilated windows). For backward, `src` describes dL/dsrc and `dst` dL/ddst.
public struct PoolingDescriptor: Sendable {
    public enum Algorithm: Sendable {
        /// The window's largest value (padding never wins).
        case max
        /// The mean of the window's values inside the source (padding not counted).
        case averageExcludingPadding

        var raw: dnnl_alg_kind_t {
            switch self {
            case .max: return dnnl_pooling_max
            case .averageExcludingPadding: return dnnl_pooling_avg_exclude_padding
            }
        }
    }

    public var algorithm: Algorithm
    public var src: MemoryDesc, dst: MemoryDesc
    /// [s_h, s_w], [k_h, k_w] and [p_h, p_w].
    public var strides: [Int], kernel: [Int], padding: [Int]

    public init(_ algorithm: Algorithm, src: MemoryDesc, dst: MemoryDesc, strides: [Int], kernel: [Int], padding: [Int]) {
        precondition(strides.count == 2 && kernel.count == 2 && padding.count == 2, "PoolingDescriptor: 2-D geometry")
        self.algorithm = algorithm
        self.src = src
        self.dst = dst
        self.strides = strides
        self.kernel = kernel
        self.padding = padding
    }

    /// The forward primitive. Bind `Arg.src`, `Arg.dst`, and for max pooling in training its
    /// `Primitive.workspaceDesc` memory as `Arg.workspace`.
    public func forward(_ kind: ForwardKind, name: String) throws -> Primitive {
        try make(name, hint: nil, call: "dnnl_pooling_v2_forward_desc_init") { desc, s, d, st, k, dil, p in
            dnnl_pooling_v2_forward_desc_init(desc, kind.raw, self.algorithm.raw, s, d, st, k, dil, p, p)
        }
    }

    /// The backward primitive for the training forward `hint`. Bind `Arg.diffDst`,
    /// `Arg.diffSrc` and the forward's workspace, if any, as `Arg.workspace`.
    public func backward(name: String, hint: Primitive) throws -> Primitive {
        try make(name, hint: hint, call: "dnnl_pooling_v2_backward_desc_init") { desc, s, d, st, k, dil, p in
            dnnl_pooling_v2_backward_desc_init(desc, self.algorithm.raw, s, d, st, k, dil, p, p)
        }
    }

    private typealias Dims = UnsafePointer<Int64>

    /// Creates the primitive with C pointers to the descriptors and the geometry (dilation 0).
    private func make(
        _ name: String, hint: Primitive?, call: String,
        _ initDesc: (UnsafeMutablePointer<dnnl_pooling_v2_desc_t>, UnsafePointer<dnnl_memory_desc_t>,
                     UnsafePointer<dnnl_memory_desc_t>, Dims, Dims, Dims, Dims) -> dnnl_status_t
    ) throws -> Primitive {
        var s = src.raw, d = dst.raw
        let st = dnnlDims(strides), k = dnnlDims(kernel), dil = dnnlDims([0, 0]), p = dnnlDims(padding)
        return try Primitive(name, dnnl_pooling_v2_desc_t.self, initCall: call, hint: hint) { desc in
            withDims(st) { st in withDims(k) { k in withDims(dil) { dil in withDims(p) { p in
                initDesc(desc, &s, &d, st, k, dil, p)
            } } } }
        }
    }
}
