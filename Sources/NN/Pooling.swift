// Pooling on oneDNN: MaxPool2d (the ImageNet stem's 3x3 stride-2 pad-1) and the global average
// pool that turns the last feature map into the representation h.

import CDNNL
import Foundation
import TensorCore

/// Max pooling, kernel k, stride s, padding p (padding never wins the max, as in PyTorch).
public final class MaxPool2d: PlannedLayer {
    public let kernel: Int, stride: Int, padding: Int
    public init(kernel: Int = 3, stride: Int = 2, padding: Int = 1) {
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }
    public var parameters: [Parameter] { [] }
    public var buffers: [Buffer] { [] }

    public func plan(_ x: Memory, _ b: PlanBuilder, needInputGradient: Bool) throws -> (Memory, BackwardPlanner?) {
        let d = x.desc.dims
        let oh = (d[2] + 2 * padding - kernel) / stride + 1, ow = (d[3] + 2 * padding - kernel) / stride + 1
        var src = x.desc.raw, dst = MemoryDesc.any([d[0], d[1], oh, ow]).raw
        let st = dnnlDims([stride, stride]), k = dnnlDims([kernel, kernel]), dil = dnnlDims([0, 0]), p = dnnlDims([padding, padding])
        let prop = b.training ? dnnl_forward_training : dnnl_forward_inference
        let fwd = try makePrimitive("maxpool fwd", dnnl_pooling_v2_desc_t.self) { pd in
            withDims(st) { st in withDims(k) { k in withDims(dil) { dil in withDims(p) { p in
                dnnl_pooling_v2_forward_desc_init(pd, prop, dnnl_pooling_max, &src, &dst, st, k, dil, p, p)
            } } } }
        }
        let y = b.activation(fwd.md(dnnl_query_dst_md))
        var args: [(Int32, Memory)] = [(Arg.src, x), (Arg.dst, y)]
        var workspace: Memory?
        if b.training, let ws = fwd.workspaceDesc {
            workspace = b.activation(ws)
            args.append((Arg.workspace, workspace!))
        }
        fwd.bind(args)
        b.forward(fwd)
        guard b.training else { return (y, nil) }
        let backward: BackwardPlanner = { dyIn, b in
            let dy = try reordered(dyIn, to: y.desc, b, backward: true)
            if dy !== dyIn { b.release(dyIn) }
            var diffSrc = x.desc.raw, diffDst = y.desc.raw
            let bwd = try makePrimitive("maxpool bwd", dnnl_pooling_v2_desc_t.self, hint: fwd) { pd in
                withDims(st) { st in withDims(k) { k in withDims(dil) { dil in withDims(p) { p in
                    dnnl_pooling_v2_backward_desc_init(pd, dnnl_pooling_max, &diffSrc, &diffDst, st, k, dil, p, p)
                } } } }
            }
            let dx = b.gradient(x.desc)
            var bargs: [(Int32, Memory)] = [(Arg.diffDst, dy), (Arg.diffSrc, dx)]
            if let ws = workspace { bargs.append((Arg.workspace, ws)) }
            bwd.bind(bargs)
            b.backward(bwd)
            b.release(dy)
            return dx
        }
        return (y, backward)
    }
}

/// Global average pooling [N, C, H, W] -> [N, C, 1, 1] in plain layout (i.e. [N, C] row-major).
public final class GlobalAvgPool: PlannedLayer {
    public init() {}
    public var parameters: [Parameter] { [] }
    public var buffers: [Buffer] { [] }

    public func plan(_ x: Memory, _ b: PlanBuilder, needInputGradient: Bool) throws -> (Memory, BackwardPlanner?) {
        let d = x.desc.dims
        var src = x.desc.raw, dst = MemoryDesc.any([d[0], d[1], 1, 1]).raw
        let st = dnnlDims([d[2], d[3]]), k = dnnlDims([d[2], d[3]]), dil = dnnlDims([0, 0]), p = dnnlDims([0, 0])
        let prop = b.training ? dnnl_forward_training : dnnl_forward_inference
        let fwd = try makePrimitive("avgpool fwd", dnnl_pooling_v2_desc_t.self) { pd in
            withDims(st) { st in withDims(k) { k in withDims(dil) { dil in withDims(p) { p in
                dnnl_pooling_v2_forward_desc_init(pd, prop, dnnl_pooling_avg_exclude_padding, &src, &dst, st, k, dil, p, p)
            } } } }
        }
        let pooled = b.activation(fwd.md(dnnl_query_dst_md))
        fwd.bind([(Arg.src, x), (Arg.dst, pooled)])
        b.forward(fwd)
        let y = try reordered(pooled, to: .plain([d[0], d[1], 1, 1]), b)
        guard b.training else { return (y, nil) }
        let backward: BackwardPlanner = { dyIn, b in
            let dy = try reordered(dyIn, to: pooled.desc, b, backward: true)
            if dy !== dyIn { b.release(dyIn) }
            var diffSrc = x.desc.raw, diffDst = pooled.desc.raw
            let bwd = try makePrimitive("avgpool bwd", dnnl_pooling_v2_desc_t.self, hint: fwd) { pd in
                withDims(st) { st in withDims(k) { k in withDims(dil) { dil in withDims(p) { p in
                    dnnl_pooling_v2_backward_desc_init(pd, dnnl_pooling_avg_exclude_padding, &diffSrc, &diffDst, st, k, dil, p, p)
                } } } }
            }
            let dx = b.gradient(x.desc)
            bwd.bind([(Arg.diffDst, dy), (Arg.diffSrc, dx)])
            b.backward(bwd)
            b.release(dy)
            return dx
        }
        return (y, backward)
    }
}
