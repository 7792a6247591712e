// Reorder: the same values copied from one memory layout to another (e.g. plain OIHW weights to
// a convolution's blocked layout, nChw16c activations back to plain NCHW).

import CDNNL

extension Primitive {
    /// A reorder from `src` layout to `dst` layout (same dims): dst[i] = src[i] for every logical
    /// index i. Bind `Arg.src` and `Arg.dst`.
    public convenience init(reorderFrom src: MemoryDesc, to dst: MemoryDesc) throws {
        var s = src.raw, d = dst.raw
        var p: dnnl_primitive_desc_t?
        let attr = PrimitiveAttr()
        let eng = DNNLContext.shared.engine
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&p, &s, eng, &d, eng, attr.handle), "dnnl_reorder_primitive_desc_create")
        try self.init("reorder", pd: p!)
    }
}
