// Which memory of a primitive a layout query asks for (oneDNN's dnnl_query_*_md).

import CDNNL

/// A memory argument of a primitive whose layout `Primitive.md(_:_:)` reports: the layouts the
/// primitive chose where it was created with `MemoryDesc.any`.
public enum MemoryQuery: Sendable {
    case src, dst, weights
    case diffSrc, diffDst, diffWeights

    var raw: dnnl_query_t {
        switch self {
        case .src: return dnnl_query_src_md
        case .dst: return dnnl_query_dst_md
        case .weights: return dnnl_query_weights_md
        case .diffSrc: return dnnl_query_diff_src_md
        case .diffDst: return dnnl_query_diff_dst_md
        case .diffWeights: return dnnl_query_diff_weights_md
        }
    }
}
