// BatchNorm2d on oneDNN, optionally with the following ReLU fused in.
//
// Training: y = gamma * (x - mu_B) / sqrt(var_B + eps) + beta with batch statistics over (N, H, W)
// (biased variance for normalising); running_mean/var follow PyTorch: r = (1 - m) r + m s with
// momentum m = 0.1 and the unbiased batch variance for running_var; num_batches_tracked += 1.
// Evaluation: the running statistics. With `fusedReLU`, y = max(0, BN(x)) and the backward pass
// applies the ReLU mask from oneDNN's workspace before the BN gradient.

import Foundation
import TensorCore

public final class BatchNorm2d: PlannedLayer {
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let fusedReLU: Bool
    /// Whether the backward pass may overwrite the incoming gradient (false when a residual
    /// branch still needs it).
    public var backwardInPlace = true
    let state: NormState
    public var weight: Parameter { state.weight }
    public var bias: Parameter { state.bias }
    public var runningMean: Buffer { state.runningMean }
    public var runningVar: Buffer { state.runningVar }
    public var numBatchesTracked: Buffer { state.numBatchesTracked }

    public init(channels: Int, name: String, fusedReLU: Bool = false, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        self.fusedReLU = fusedReLU
        state = NormState(count: channels, name: name)
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Buffer] { [runningMean, runningVar, numBatchesTracked] }

    func paramMemory(_ t: Tensor) -> Memory {
        Memory(.plain([channels]), pointer: UnsafeMutableRawPointer(t.data), owner: t)
    }

    public func plan(_ x: Memory, _ b: PlanBuilder, needInputGradient: Bool) throws -> (Memory, BackwardPlanner?) {
        let planned = try planDetailed(x, b, transientOutput: false)
        return (planned.output, planned.backward)
    }

    /// The forward plan with options: `transientOutput` puts y in pool memory that the caller
    /// releases once y's consumers are planned (y is not kept for backward); `recompute` (training
    /// only) appends backward ops that recompute y from the kept input and the batch statistics
    /// into new pool memory, for a consumer whose backward needs y (the next conv's weight
    /// gradient). This trades one elementwise pass for one activation of memory.
    public func planDetailed(_ x: Memory, _ b: PlanBuilder, transientOutput: Bool) throws
        -> (output: Memory, backward: BackwardPlanner?, recompute: ((PlanBuilder) throws -> Memory)?)
    {
        let d = x.desc.dims
        precondition(d[1] == channels, "BatchNorm2d(\(weight.name)): input \(d), expected \(channels) channels")
        var flags: BatchNormalizationDescriptor.Flags = [.useScale, .useShift]
        if fusedReLU { flags.insert(.fuseReLU) }
        if !b.training { flags.insert(.useGlobalStatistics) }
        let norm = BatchNormalizationDescriptor(data: x.desc, epsilon: epsilon, flags: flags)
        let fwd = try norm.forward(ForwardKind(training: b.training), name: "bn fwd \(weight.name)")
        let yDesc = fwd.md(.dst)
        let y = transientOutput ? b.transient(yDesc) : b.activation(yDesc)
        let scale = paramMemory(weight.value), shift = paramMemory(bias.value)
        if !b.training {
            fwd.bind([(Arg.src, x), (Arg.dst, y), (Arg.mean, paramMemory(runningMean.value)),
                      (Arg.variance, paramMemory(runningVar.value)), (Arg.scale, scale), (Arg.shift, shift)])
            b.forward(fwd)
            return (y, nil, nil)
        }
        let mean = b.activation(.plain([channels])), variance = b.activation(.plain([channels]))
        var args: [(Int32, Memory)] = [(Arg.src, x), (Arg.dst, y), (Arg.mean, mean), (Arg.variance, variance),
                                       (Arg.scale, scale), (Arg.shift, shift)]
        var workspace: Memory?
        if let ws = fwd.workspaceDesc {
            workspace = b.activation(ws)
            args.append((Arg.workspace, workspace!))
        }
        fwd.bind(args)
        b.forward(fwd)
        // Running statistics, PyTorch convention (unbiased variance, momentum 0.1).
        let count = Float(d[0] * d[2] * d[3])
        let unbias = count > 1 ? count / (count - 1) : 1
        let m = momentum, state = state
        b.forwardHost {
            let mu = mean.floats, v = variance.floats
            state.updateRunningStatistics(momentum: m, mean: { mu[$0] }, unbiasedVariance: { v[$0] * unbias })
        }

        let backward: BackwardPlanner = { [weight, bias, backwardInPlace] dyIn, b in
            let dy = try reordered(dyIn, to: y.desc, b, backward: true)
            if dy !== dyIn { b.release(dyIn) }
            let bwd = try norm.backward(diff: y.desc, name: "bn bwd \(weight.name)", hint: fwd)
            let dx = backwardInPlace && dy.desc == x.desc ? dy : b.gradient(bwd.md(.diffSrc))
            var bargs: [(Int32, Memory)] = [
                (Arg.src, x), (Arg.mean, mean), (Arg.variance, variance), (Arg.diffDst, dy), (Arg.scale, scale), (Arg.shift, shift),
                (Arg.diffSrc, dx), (Arg.diffScale, self.paramMemory(weight.grad)), (Arg.diffShift, self.paramMemory(bias.grad)),
            ]
            if let ws = workspace { bargs.append((Arg.workspace, ws)) }
            bwd.bind(bargs)
            b.backward(bwd)
            if dx !== dy { b.release(dy) }
            return dx
        }
        // y again from x and the saved batch statistics: same formula, BN in "global stats" mode.
        let recompute: (PlanBuilder) throws -> Memory = { [weight] b in
            var statistics = norm
            statistics.flags.insert(.useGlobalStatistics)
            let again = try statistics.forward(.inference, name: "bn recompute \(weight.name)")
            let out = b.gradient(yDesc)
            again.bind([(Arg.src, x), (Arg.dst, out), (Arg.mean, mean), (Arg.variance, variance),
                        (Arg.scale, scale), (Arg.shift, shift)])
            b.backward(again)
            return out
        }
        return (y, backward, recompute)
    }
}

extension BatchNorm2d: RebuildingLayer {
    /// BN's backward reads its input: it must be kept.
    public var acceptsRebuiltInput: Bool { false }

    public func planRebuilding(_ x: Memory, rebuiltInput: RebuiltValue?, _ b: PlanBuilder, needInputGradient: Bool,
                               transientOutput: Bool) throws -> (output: Memory, backward: BackwardPlanner?, rebuilt: RebuiltValue?)
    {
        precondition(rebuiltInput == nil, "BatchNorm2d(\(weight.name)) needs its input kept")
        let transient = transientOutput && b.training
        let p = try planDetailed(x, b, transientOutput: transient)
        guard transient, let recompute = p.recompute else { return (p.output, p.backward, nil) }
        return (p.output, p.backward, RebuiltValue(uses: 0, rebuild: recompute))
    }
}
