// Pooling on oneDNN: MaxPool2d (the ImageNet stem's 3x3 stride-2 pad-1) and the global average
// pool that turns the last feature map into the representation h.

import CDNNL
import Foundation
import TensorCore

/// A pooling primitive: forward (`hint` nil, `prop` given) or backward (`hint` = the forward).
/// `a` and `b` are the (diff) source and (diff) destination descriptors.
func poolingPrimitive(_ name: String, _ alg: dnnl_alg_kind_t, prop: dnnl_prop_kind_t?, _ a: MemoryDesc, _ b: MemoryDesc,
                      stride: [Int], kernel: [Int], padding: [Int], hint: Primitive? = nil) throws -> Primitive {
    var src = a.raw, dst = b.raw
    let st = dnnlDims(stride), k = dnnlDims(kernel), dil = dnnlDims([0, 0]), p = dnnlDims(padding)
    return try makePrimitive(name, dnnl_pooling_v2_desc_t.self, hint: hint) { pd in
        withDims(st) { st in withDims(k) { k in withDims(dil) { dil in withDims(p) { p in
            if let prop {
                return dnnl_pooling_v2_forward_desc_init(pd, prop, alg, &src, &dst, st, k, dil, p, p)
            }
            return dnnl_pooling_v2_backward_desc_init(pd, alg, &src, &dst, st, k, dil, p, p)
        } } } }
    }
}

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
        let geometry = (stride: [stride, stride], kernel: [kernel, kernel], padding: [padding, padding])
        let fwd = try poolingPrimitive("maxpool fwd", dnnl_pooling_max, prop: b.training ? dnnl_forward_training : dnnl_forward_inference,
                                       x.desc, .any([d[0], d[1], oh, ow]), stride: geometry.stride, kernel: geometry.kernel,
                                       padding: geometry.padding)
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
            let bwd = try poolingPrimitive("maxpool bwd", dnnl_pooling_max, prop: nil, x.desc, y.desc, stride: geometry.stride,
                                           kernel: geometry.kernel, padding: geometry.padding, hint: fwd)
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
/// Its backward does not read x, so x need not be kept.
public final class GlobalAvgPool: RebuildingLayer {
    public init() {}
    public var parameters: [Parameter] { [] }
    public var buffers: [Buffer] { [] }

    public var acceptsRebuiltInput: Bool { true }

    public func planRebuilding(_ x: Memory, rebuiltInput: RebuiltValue?, _ b: PlanBuilder, needInputGradient: Bool,
                               transientOutput: Bool) throws -> (output: Memory, backward: BackwardPlanner?, rebuilt: RebuiltValue?)
    {
        let (y, backward) = try plan(x, b, needInputGradient: needInputGradient)
        if rebuiltInput != nil { b.release(x) }
        return (y, backward, nil)
    }

    public func plan(_ x: Memory, _ b: PlanBuilder, needInputGradient: Bool) throws -> (Memory, BackwardPlanner?) {
        let d = x.desc.dims
        let window = [d[2], d[3]]
        let fwd = try poolingPrimitive("avgpool fwd", dnnl_pooling_avg_exclude_padding,
                                       prop: b.training ? dnnl_forward_training : dnnl_forward_inference,
                                       x.desc, .any([d[0], d[1], 1, 1]), stride: window, kernel: window, padding: [0, 0])
        let pooled = b.activation(fwd.md(dnnl_query_dst_md))
        fwd.bind([(Arg.src, x), (Arg.dst, pooled)])
        b.forward(fwd)
        let y = try reordered(pooled, to: .plain([d[0], d[1], 1, 1]), b)
        guard b.training else { return (y, nil) }
        let backward: BackwardPlanner = { dyIn, b in
            let dy = try reordered(dyIn, to: pooled.desc, b, backward: true)
            if dy !== dyIn { b.release(dyIn) }
            let bwd = try poolingPrimitive("avgpool bwd", dnnl_pooling_avg_exclude_padding, prop: nil, x.desc, pooled.desc,
                                           stride: window, kernel: window, padding: [0, 0], hint: fwd)
            let dx = b.gradient(x.desc)
            bwd.bind([(Arg.diffDst, dy), (Arg.diffSrc, dx)])
            b.backward(bwd)
            b.release(dy)
            return dx
        }
        return (y, backward)
    }
}
