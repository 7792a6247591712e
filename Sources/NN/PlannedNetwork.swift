// A chain of planned layers run as one compiled pass per input shape: plain NCHW Float32 in,
// plain output out (whatever layout the layers used inside), gradients back the same way.

import Foundation
import TensorCore

public final class PlannedNetwork {
    public let layers: [PlannedLayer]
    /// Whether backward also produces dL/dx for the network's input (tests need it; the encoder does not).
    public let producesInputGradient: Bool

    /// Whether the output is flattened to [N, rest] (the encoder's h after global pooling).
    public let flattensOutput: Bool

    /// How eligible 3x3 convolutions are computed; changing it drops the compiled passes.
    public var convolutionAlgorithm: ConvolutionAlgorithm = .auto {
        didSet { if convolutionAlgorithm != oldValue { releasePlans() } }
    }

    /// Whether training plans leave activations that are cheap to recompute (BN outputs and
    /// some block outputs) out of the kept memory and rebuild them in backward. The results are
    /// bit-identical either way; changing it drops the compiled passes.
    public var rebuildsActivations = true {
        didSet { if rebuildsActivations != oldValue { releasePlans() } }
    }

    public init(layers: [PlannedLayer], producesInputGradient: Bool = false, flattensOutput: Bool = false) {
        self.layers = layers
        self.producesInputGradient = producesInputGradient
        self.flattensOutput = flattensOutput
    }

    struct ShapeKey: Hashable { let shape: [Int], training: Bool }

    /// A compiled forward (and, when training, backward) pass for one input shape.
    public final class CompiledPass {
        /// The input, plain layout (the forward copies the caller's tensor here).
        public let input: Tensor
        /// The output, plain layout.
        public let output: Tensor
        /// dL/d(output): written by `backward(_:)` before the backward ops run.
        public let outputGradient: Tensor
        /// dL/d(input), plain, when the network produces it.
        public let inputGradient: Tensor?
        let forwardOps: [PlanOp]
        let backwardOps: [PlanOp]
        let builder: PlanBuilder

        /// Bytes of activation and gradient memory this pass owns.
        public var memoryBytes: Int { builder.activationBytes }
        /// Everything the pass holds, by kind.
        public let memory: PlannedMemory
        /// Bytes of the pool arena (gradients, short-lived forward values, scratchpads).
        public var poolBytes: Int { builder.poolBytes }
        /// The most pool memories alive at one time.
        public var peakLivePoolMemories: Int { builder.peakLivePoolMemories }
        /// The largest scratchpad one primitive needs.
        public var largestScratchpad: Int { builder.largestScratchpad }
        /// Number of convolution primitives per step that run Winograd.
        public var winogradPrimitives: Int {
            (forwardOps + backwardOps).reduce(0) {
                if case .primitive(let p) = $1, p.implementation.contains("wino") { return $0 + 1 } else { return $0 }
            }
        }
        /// Number of oneDNN primitives executed per step.
        public var primitiveCount: Int {
            (forwardOps + backwardOps).reduce(0) { if case .primitive = $1 { return $0 + 1 } else { return $0 } }
        }

        init(input: Tensor, output: Tensor, outputGradient: Tensor, inputGradient: Tensor?, builder: PlanBuilder, hostBytes: Int) {
            memory = PlannedMemory(kept: builder.activationBytes - builder.poolBytes, pool: builder.poolBytes, host: hostBytes)
            self.input = input
            self.output = output
            self.outputGradient = outputGradient
            self.inputGradient = inputGradient
            self.builder = builder
            forwardOps = builder.forwardOps
            backwardOps = builder.backwardOps
        }
    }

    private var passes: [ShapeKey: CompiledPass] = [:]
    private var lastTraining: CompiledPass?

    /// The compiled pass for this input shape (planned on first use, then reused).
    public func compiled(inputShape: [Int], training: Bool) throws -> CompiledPass {
        let key = ShapeKey(shape: inputShape, training: training)
        if let p = passes[key] { return p }
        let pass = try plan(inputShape: inputShape, training: training, measuring: false)
        passes[key] = pass
        return pass
    }

    /// The memory the compiled pass for this shape would hold, found by planning it without
    /// allocating its activations, arena or plain tensors (the primitives are created, not run).
    public func plannedMemory(inputShape: [Int], training: Bool) throws -> PlannedMemory {
        if let p = passes[ShapeKey(shape: inputShape, training: training)] { return p.memory }
        return try plan(inputShape: inputShape, training: training, measuring: true).memory
    }

    /// Plans a pass; a measuring one gets placeholder tensors and must never run.
    private func plan(inputShape: [Int], training: Bool, measuring: Bool) throws -> CompiledPass {
        let b = PlanBuilder(training: training, convolutionAlgorithm: convolutionAlgorithm, measuring: measuring)
        var hostBytes = 0
        func hostTensor(_ shape: [Int]) -> Tensor {
            hostBytes += shape.reduce(1, *) * MemoryLayout<Float>.stride
            return Tensor(shape: measuring ? [0] : shape)
        }
        let inputTensor = hostTensor(inputShape)
        let input = Memory(.plain(inputShape), pointer: UnsafeMutableRawPointer(inputTensor.data), owner: inputTensor)
        var x = input
        var rebuilt: RebuiltValue? = nil
        var planners: [BackwardPlanner] = []
        for (i, layer) in layers.enumerated() {
            let needGradient = i > 0 || producesInputGradient
            let next = i + 1 < layers.count ? layers[i + 1] as? RebuildingLayer : nil
            if let layer = layer as? RebuildingLayer {
                let transient = training && rebuildsActivations && next?.acceptsRebuiltInput == true
                let p = try layer.planRebuilding(x, rebuiltInput: rebuilt, b, needInputGradient: needGradient,
                                                 transientOutput: transient)
                x = p.output
                rebuilt = p.rebuilt
                if let planner = p.backward { planners.append(planner) }
            } else {
                precondition(rebuilt == nil, "PlannedNetwork: a rebuilt value fed a layer that cannot take it")
                let (y, planner) = try layer.plan(x, b, needInputGradient: needGradient)
                x = y
                if let planner { planners.append(planner) }
            }
        }
        precondition(rebuilt == nil, "PlannedNetwork: the last layer left its output in pool memory")
        let outShape = x.desc.dims
        let tensorShape = flattensOutput ? [outShape[0], outShape.dropFirst().reduce(1, *)] : outShape
        let output = hostTensor(tensorShape)
        let outMem = Memory(.plain(outShape), pointer: UnsafeMutableRawPointer(output.data), owner: output)
        let last = x
        if last.desc == outMem.desc {
            b.forwardHost { output.data.update(from: last.floats, count: output.count) }
        } else {
            let r = try Primitive(reorderFrom: last.desc, to: outMem.desc)
            r.bind([(Arg.src, last), (Arg.dst, outMem)])
            b.forward(r)
        }
        let outputGradient = hostTensor(tensorShape)
        var inputGradient: Tensor?
        if training {
            let dy = Memory(.plain(outShape), pointer: UnsafeMutableRawPointer(outputGradient.data), owner: outputGradient)
            var g: Memory? = dy
            for planner in planners.reversed() {
                guard let gin = g else { break }
                g = try planner(gin, b)
            }
            if producesInputGradient, let g {
                let dx = hostTensor(inputShape)
                let dxMem = Memory(.plain(inputShape), pointer: UnsafeMutableRawPointer(dx.data), owner: dx)
                let r = try Primitive(reorderFrom: g.desc, to: dxMem.desc)
                r.bind([(Arg.src, g), (Arg.dst, dxMem)])
                b.backward(r)
                inputGradient = dx
            }
            if let g { b.release(g) }
        }
        b.finish()
        return CompiledPass(input: inputTensor, output: output, outputGradient: outputGradient,
                            inputGradient: inputGradient, builder: b, hostBytes: hostBytes)
    }

    /// Forgets every compiled pass (frees their memory).
    public func releasePlans() { passes.removeAll(); lastTraining = nil }

    /// Runs the forward pass on `x` (plain layout). The result is owned by the compiled pass and
    /// overwritten by the next call with the same shape.
    @discardableResult
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        let pass = try compiled(inputShape: x.shape, training: training)
        pass.input.assign(x)
        for op in pass.forwardOps { op.run() }
        DNNLContext.shared.wait()
        lastTraining = training ? pass : nil
        return pass.output
    }

    /// Back-propagates dL/d(output) (same element count as the last training forward's output)
    /// and returns dL/d(input) when the network produces it. Parameter gradients are written
    /// (not accumulated) into each `Parameter.grad`.
    @discardableResult
    public func backward(_ dy: Tensor) -> Tensor? {
        guard let pass = lastTraining else { preconditionFailure("backward without a training forward") }
        precondition(dy.count == pass.output.count, "backward: gradient \(dy.shape), expected \(pass.output.shape)")
        pass.outputGradient.assign(dy)
        for op in pass.backwardOps { op.run() }
        DNNLContext.shared.wait()
        return pass.inputGradient
    }
}
