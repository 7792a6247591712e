// Pooling on oneDNN: MaxPool2d (the ImageNet stem's 3x3 stride-2 pad-1) and the global average
// pool that turns the last feature map into the representation h.

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
        var pool = PoolingDescriptor(.max, src: x.desc, dst: .any([d[0], d[1], oh, ow]), strides: [stride, stride],
                                     kernel: [kernel, kernel], padding: [padding, padding])
        let fwd = try pool.forward(ForwardKind(training: b.training), name: "maxpool fwd")
        let y = b.activation(fwd.md(.dst))
        pool.dst = y.desc  // backward: dL/dy in the layout the forward chose
        var args: [(Int32, Memory)] = [(Arg.src, x), (Arg.dst, y)]
        var workspace: Memory?
        if b.training, let ws = fwd.workspaceDesc {
            workspace = b.activation(ws)
            args.append((Arg.workspace, workspace!))
        }
        fwd.bind(args)
        b.forward(fwd)
        guard b.training else { return (y, nil) }
        let backward: BackwardPlanner = { [pool] dyIn, b in
            let dy = try reordered(dyIn, to: y.desc, b, backward: true)
            if dy !== dyIn { b.release(dyIn) }
            let bwd = try pool.backward(name: "maxpool bwd", hint: fwd)
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
        var pool = PoolingDescriptor(.averageExcludingPadding, src: x.desc, dst: .any([d[0], d[1], 1, 1]), strides: window,
                                     kernel: window, padding: [0, 0])
        let fwd = try pool.forward(ForwardKind(training: b.training), name: "avgpool fwd")
        let pooled = b.activation(fwd.md(.dst))
        pool.dst = pooled.desc  // backward: dL/dpooled in the layout the forward chose
        fwd.bind([(Arg.src, x), (Arg.dst, pooled)])
        b.forward(fwd)
        let y = try reordered(pooled, to: .plain([d[0], d[1], 1, 1]), b)
        guard b.training else { return (y, nil) }
        let backward: BackwardPlanner = { [pool] dyIn, b in
            let dy = try reordered(dyIn, to: pooled.desc, b, backward: true)
            if dy !== dyIn { b.release(dyIn) }
            let bwd = try pool.backward(name: "avgpool bwd", hint: fwd)
            let dx = b.gradient(x.desc)
            bwd.bind([(Arg.diffDst, dy), (Arg.diffSrc, dx)])
            b.backward(bwd)
            b.release(dy)
            return dx
        }
        return (y, backward)
    }
}
