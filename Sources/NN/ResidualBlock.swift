// Residual blocks (He et al. 2016) as torchvision builds them: BasicBlock (3x3, 3x3) and
// Bottleneck (1x1, 3x3 with the stride, 1x1 with expansion 4), each conv followed by BatchNorm,
// ReLU fused into every BN but the last, then y = ReLU(main(x) + shortcut(x)) where the
// shortcut is identity or, when the shape changes, a 1x1 strided conv + BN ("downsample").

import Foundation
import TensorCore

public final class ResidualBlock: RebuildingLayer {
    public let convs: [Conv2d]
    public let norms: [BatchNorm2d]
    public let downsample: (Conv2d, BatchNorm2d)?

    /// `name` is the torchvision prefix, e.g. "layer2.0".
    public init(bottleneck: Bool, inChannels: Int, planes: Int, stride: Int, name: String, rng: inout RandomState) {
        let outChannels = bottleneck ? planes * 4 : planes
        var convs: [Conv2d] = []
        if bottleneck {
            convs.append(Conv2d(inChannels: inChannels, outChannels: planes, kernel: 1, name: name + ".conv1", rng: &rng))
            convs.append(Conv2d(inChannels: planes, outChannels: planes, kernel: 3, stride: stride, padding: 1,
                                name: name + ".conv2", rng: &rng))
            convs.append(Conv2d(inChannels: planes, outChannels: outChannels, kernel: 1, name: name + ".conv3", rng: &rng))
        } else {
            convs.append(Conv2d(inChannels: inChannels, outChannels: planes, kernel: 3, stride: stride, padding: 1,
                                name: name + ".conv1", rng: &rng))
            convs.append(Conv2d(inChannels: planes, outChannels: planes, kernel: 3, padding: 1, name: name + ".conv2", rng: &rng))
        }
        self.convs = convs
        norms = convs.enumerated().map { i, c in
            BatchNorm2d(channels: c.outChannels, name: "\(name).bn\(i + 1)", fusedReLU: i < convs.count - 1)
        }
        if stride != 1 || inChannels != outChannels {
            let c = Conv2d(inChannels: inChannels, outChannels: outChannels, kernel: 1, stride: stride,
                           name: name + ".downsample.0", rng: &rng)
            downsample = (c, BatchNorm2d(channels: outChannels, name: name + ".downsample.1"))
        } else {
            downsample = nil
        }
        norms.last!.backwardInPlace = false  // the shortcut (or the sum) still needs the block's output gradient
    }

    public var outChannels: Int { convs.last!.outChannels }

    public var parameters: [Parameter] {
        var p: [Parameter] = []
        for (c, n) in zip(convs, norms) { p += c.parameters + n.parameters }
        if let (c, n) = downsample { p += c.parameters + n.parameters }
        return p
    }

    public var buffers: [Buffer] {
        norms.flatMap(\.buffers) + (downsample.map { $0.1.buffers } ?? [])
    }

    public func plan(_ x: Memory, _ b: PlanBuilder, needInputGradient: Bool) throws -> (Memory, BackwardPlanner?) {
        let p = try planRebuilding(x, rebuiltInput: nil, b, needInputGradient: needInputGradient, transientOutput: false)
        return (p.output, p.backward)
    }

    public var acceptsRebuiltInput: Bool { true }

    /// The block's output y = ReLU(BN(c_last) + shortcut) can be rebuilt from kept memory when the
    /// shortcut is a projection (BN of the kept downsample conv output) or the identity of a kept
    /// input. With `transientOutput` it is then not kept: backward rebuilds it (one BN pass, one
    /// add) for the next block's weight gradients and for this block's ReLU mask. An identity
    /// block whose input is itself rebuilt keeps its output, so rebuilds never chain.
    public func planRebuilding(_ x: Memory, rebuiltInput: RebuiltValue?, _ b: PlanBuilder, needInputGradient: Bool,
                               transientOutput: Bool) throws -> (output: Memory, backward: BackwardPlanner?, rebuilt: RebuiltValue?)
    {
        // Backward readers of a rebuilt input: conv1's weight gradient, the downsample's.
        rebuiltInput?.addUses(downsample == nil ? 1 : 2)
        let takeInput: Rebuild? = rebuiltInput.map { value in { b in try value.take(b) } }
        // Main branch. Only what backward reads is kept: each conv's output (BN's input) and the
        // block output (unless rebuilt). BN outputs live in pool memory; the ReLU'd ones that feed
        // a conv are recomputed in backward for that conv's weight gradient.
        var h = x
        var recompute: Rebuild? = b.training ? takeInput : nil
        var lastRecompute: Rebuild? = nil
        var planners: [BackwardPlanner] = []
        for (i, (c, n)) in zip(convs, norms).enumerated() {
            let (hc, pc) = try c.plan(h, b, needInputGradient: i > 0 || needInputGradient,
                                      recomputeInput: b.training ? recompute : nil)
            if i > 0 { b.release(h) }
            let planned = try n.planDetailed(hc, b, transientOutput: true)
            h = planned.output
            recompute = planned.recompute
            lastRecompute = planned.recompute
            if let pc, let pn = planned.backward { planners += [pc, pn] }
        }
        // Shortcut.
        var s = x
        var shortcutPlanners: [BackwardPlanner] = []
        var shortcutTransient: Memory? = nil
        var shortcutRecompute: Rebuild? = nil
        if let (c, n) = downsample {
            let (sc, pc) = try c.plan(x, b, needInputGradient: needInputGradient,
                                      recomputeInput: b.training ? takeInput : nil)
            let planned = try n.planDetailed(sc, b, transientOutput: true)
            s = planned.output
            shortcutTransient = s
            shortcutRecompute = planned.recompute
            if let pc, let pn = planned.backward { shortcutPlanners = [pc, pn] }
        }
        let sIn = s
        s = try reordered(s, to: h.desc, b)
        // y = ReLU(h + s) into new memory (oneDNN 2.6 drops the ReLU post-op when dst == src0).
        let hDesc = h.desc, sDesc = s.desc
        func addPrimitive(_ name: String) throws -> Primitive {
            let attr = PrimitiveAttr()
            try attr.appendEltwise(.relu)
            return try BinaryDescriptor(.add, src0: hDesc, src1: sDesc, dst: hDesc).primitive(name: name, attr: attr)
        }
        let add = try addPrimitive("residual add")
        let rebuildsOutput = transientOutput && b.training && lastRecompute != nil
            && (downsample == nil ? rebuiltInput == nil : shortcutRecompute != nil)
        let y = rebuildsOutput ? b.transient(hDesc) : b.activation(hDesc)
        add.bind([(Arg.src, h), (Arg.src1, s), (Arg.dst, y)])
        b.forward(add)
        b.release(h)
        if let t = shortcutTransient { b.release(t) }
        if s !== sIn { b.retain(s) }
        if rebuiltInput != nil { b.release(x) }
        guard b.training else { return (y, nil, nil) }

        // y again, from kept memory only: BN(c_last) and (BN(c_downsample), or the kept input).
        var rebuiltOutput: RebuiltValue? = nil
        if rebuildsOutput, let lastRecompute {
            let keptShortcut = s
            rebuiltOutput = RebuiltValue(uses: 1) { b in
                let t = try lastRecompute(b)
                var sr = keptShortcut
                if let shortcutRecompute {
                    let raw = try shortcutRecompute(b)
                    sr = try reordered(raw, to: sDesc, b, backward: true)
                    if sr !== raw { b.release(raw) }
                }
                let out = b.gradient(hDesc)
                let again = try addPrimitive("residual add rebuild")
                again.bind([(Arg.src, t), (Arg.src1, sr), (Arg.dst, out)])
                b.backward(again)
                b.release(t)
                b.release(sr)  // no-op for the kept input
                return out
            }
        }

        let backward: BackwardPlanner = { dyIn, b in
            let dy = try reordered(dyIn, to: y.desc, b, backward: true)
            if dy !== dyIn { b.release(dyIn) }
            // dz = dy * [y > 0], in place.
            let yMask = try rebuiltOutput?.take(b) ?? y
            let reluDesc = EltwiseDescriptor(.reluUsingDst, data: y.desc)
            let reluHint = try reluDesc.forward(.training, name: "relu fwd hint")
            let relu = try reluDesc.backward(diff: y.desc, name: "relu bwd", hint: reluHint)
            relu.bind([(Arg.dst, yMask), (Arg.diffDst, dy), (Arg.diffSrc, dy)])
            b.backward(relu)
            if yMask !== y { b.release(yMask) }
            // dz feeds the main branch (whose last BN is not in place, so dz survives it) and then
            // the shortcut, which is its last reader: hold it once for that second consumer. Main
            // branch first, shortcut second, lets the shortcut's BN work in place on dz, so a
            // projection block needs three live gradients, not four.
            b.hold(dy)
            var g: Memory? = dy
            for planner in planners.reversed() {
                guard let gin = g else { break }
                g = try planner(gin, b)
            }
            let other: Memory
            if shortcutPlanners.count == 2 {
                guard let ds = try shortcutPlanners[0](try shortcutPlanners[1](dy, b)!, b) else {
                    if let g { b.release(g) }
                    return nil
                }
                other = ds
            } else {
                other = dy
            }
            guard needInputGradient, let dxMain = g else {
                b.release(other)
                return nil
            }
            // dx = dx_main + (dz or dx_shortcut), in place in dx_main.
            let src1 = try reordered(other, to: dxMain.desc, b, backward: true)
            let sum = try BinaryDescriptor(.add, src0: dxMain.desc, src1: src1.desc, dst: dxMain.desc)
                .primitive(name: "gradient sum")
            sum.bind([(Arg.src, dxMain), (Arg.src1, src1), (Arg.dst, dxMain)])
            b.backward(sum)
            if src1 !== other { b.release(src1) }
            b.release(other)
            return dxMain
        }
        return (y, backward, rebuiltOutput)
    }
}
