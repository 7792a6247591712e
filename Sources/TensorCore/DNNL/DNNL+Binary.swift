// Binary primitives: elementwise operations of two sources (the residual add).

import CDNNL

/// An elementwise operation of two tensors of the same dims: dst = src0 (op) src1, each in its
/// own layout, then the attribute's post-ops (e.g. ReLU) on dst.
public struct BinaryDescriptor: Sendable {
    public enum Algorithm: Sendable {
        /// dst = src0 + src1.
        case add

        var raw: dnnl_alg_kind_t {
            switch self {
            case .add: return dnnl_binary_add
            }
        }
    }

    public var algorithm: Algorithm
    public var src0: MemoryDesc, src1: MemoryDesc, dst: MemoryDesc

    public init(_ algorithm: Algorithm, src0: MemoryDesc, src1: MemoryDesc, dst: MemoryDesc) {
        self.algorithm = algorithm
        self.src0 = src0
        self.src1 = src1
        self.dst = dst
    }

    /// The primitive, with `attr`'s post-ops. Bind `Arg.src` (src0), `Arg.src1` and `Arg.dst`.
    public func primitive(name: String, attr: PrimitiveAttr = PrimitiveAttr()) throws -> Primitive {
        var a = src0.raw, b = src1.raw, d = dst.raw
        let alg = algorithm.raw
        return try Primitive(name, dnnl_binary_desc_t.self, initCall: "dnnl_binary_desc_init", attr: attr) {
            dnnl_binary_desc_init($0, alg, &a, &b, &d)
        }
    }
}
