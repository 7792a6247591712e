// Execution plans: a network is "compiled" once per input shape into two flat lists of
// operations (forward, backward) over memory that is allocated once. After the first step of a
// given shape, a training step creates no primitive and allocates no activation or gradient
// buffer: it replays the lists.
//
// Planning works layer by layer: `plan(_:_:)` on a layer appends its forward operations, returns
// its output memory, and returns a closure that later plans its backward pass. The builder
// plans the backward closures in reverse order. Gradients, short-lived forward values and
// scratchpads live in one pool arena, placed by lifetime: a pool memory is taken when it is
// produced and given back when its last consumer has been planned, so the arena holds only what
// is alive at one time (three or four activations and one scratchpad), not one buffer per layer.

import Foundation
import TensorCore

/// One step of a plan: a oneDNN primitive with bound arguments, or host work.
public enum PlanOp {
    case primitive(Primitive)
    case host(() -> Void)

    @inline(__always) func run() {
        switch self {
        case .primitive(let p): p.run()
        case .host(let f): f()
        }
    }
}

/// Plans the backward pass of one layer: given the gradient of its output (a pool memory, which
/// the closure must give back when done, unless it hands the same memory on), it returns the
/// gradient of its input, or nil where no input gradient is needed.
public typealias BackwardPlanner = (_ dy: Memory, _ b: PlanBuilder) throws -> Memory?

/// Collects the operations and memory of one plan.
///
/// Memory comes in two kinds. Activations (`activation(_:)`) are owned by the plan and live as
/// long as it: what backward reads. Pool memory (`gradient(_:)`, also used for forward values
/// that die right after their consumer, and for every primitive's scratchpad) lives only between
/// the operation count at which it was requested and the one at which it was given back with
/// `release(_:)` (once every operation that reads it has been appended). `finish()` lays all pool
/// memories out in one arena so that two of them share bytes only when their lifetimes do not
/// overlap: the arena is about the largest set of pool memories alive at one time, not their sum.
public final class PlanBuilder {
    public let training: Bool
    /// A measuring plan allocates no activation or arena memory: every memory points at a
    /// placeholder, `finish()` only computes the layout, and the plan must never run. It tells
    /// what a plan would take (`activationBytes`, `poolBytes`) before committing the memory.
    public let measuring: Bool
    /// How convolutions that could use Winograd are computed (see `ConvolutionAlgorithm`).
    public let convolutionAlgorithm: ConvolutionAlgorithm
    public internal(set) var forwardOps: [PlanOp] = []
    public internal(set) var backwardOps: [PlanOp] = []
    /// Everything this plan allocated, for the memory report.
    public internal(set) var activationBytes = 0
    /// Bytes of the pool arena (included in `activationBytes`).
    public private(set) var poolBytes = 0
    /// The largest scratchpad any primitive of the plan needs.
    public private(set) var largestScratchpad = 0
    var keepAlive: [AnyObject] = []

    /// One pool memory and its lifetime [start, end) in appended-operation counts.
    private struct PoolRequest {
        let memory: Memory
        let bytes: Int
        let start: Int
        var end: Int
    }
    private var requests: [PoolRequest] = []
    private var open: [ObjectIdentifier: Int] = [:]   // request index of each memory not yet given back
    private var holds: [ObjectIdentifier: Int] = [:]
    private var scratchOf: [ObjectIdentifier: Int] = [:]  // request index of each primitive's scratchpad
    private static let placeholder = DeviceBuffer(byteCount: 64)

    public init(training: Bool, convolutionAlgorithm: ConvolutionAlgorithm = .auto, measuring: Bool = false) {
        self.training = training
        self.measuring = measuring
        self.convolutionAlgorithm = convolutionAlgorithm
    }

    /// Operations appended so far: the position of the next one. Forward ops are all planned
    /// before backward ops, in execution order, so this is also a clock of the execution.
    private var now: Int { forwardOps.count + backwardOps.count }

    /// Appends a forward operation.
    public func forward(_ op: PlanOp) {
        if case .primitive(let p) = op { scratchpad(for: p) }
        forwardOps.append(op)
    }
    public func forward(_ p: Primitive) { forward(.primitive(p)) }
    public func forwardHost(_ f: @escaping () -> Void) { forwardOps.append(.host(f)) }

    /// Appends a backward operation (in execution order).
    public func backward(_ p: Primitive) {
        scratchpad(for: p)
        backwardOps.append(.primitive(p))
    }
    public func backwardHost(_ f: @escaping () -> Void) { backwardOps.append(.host(f)) }

    /// Gives `p`, about to be appended at `now`, pool memory for its scratchpad that lives for
    /// that one operation (or, if `p` is appended again, until its last appearance).
    private func scratchpad(for p: Primitive) {
        guard let desc = p.scratchpadDesc else { return }
        largestScratchpad = max(largestScratchpad, desc.byteCount)
        if let i = scratchOf[ObjectIdentifier(p)] {
            requests[i].end = now + 1
            return
        }
        let m = Memory(desc, pointer: PlanBuilder.placeholder.pointer, owner: nil)
        scratchOf[ObjectIdentifier(p)] = requests.count
        requests.append(PoolRequest(memory: m, bytes: desc.byteCount, start: now, end: now + 1))
        p.useScratchpad(m)
        keepAlive.append(p)
    }

    /// A new activation memory owned by the plan (kept for backward).
    public func activation(_ desc: MemoryDesc) -> Memory {
        activationBytes += desc.byteCount
        return measuring ? Memory(desc, pointer: PlanBuilder.placeholder.pointer, owner: nil) : Memory(desc)
    }

    /// Keeps an object alive as long as the plan.
    public func retain(_ o: AnyObject) { keepAlive.append(o) }

    /// Pool memory (a gradient, or a forward value that dies after its consumer), live from now
    /// until it is given back with `release(_:)`.
    public func gradient(_ desc: MemoryDesc) -> Memory {
        let m = Memory(desc, pointer: PlanBuilder.placeholder.pointer, owner: nil)
        open[ObjectIdentifier(m)] = requests.count
        requests.append(PoolRequest(memory: m, bytes: desc.byteCount, start: now, end: Int.max))
        return m
    }

    /// Same as `gradient(_:)`: a forward value that is released once its consumers are planned.
    public func transient(_ desc: MemoryDesc) -> Memory { gradient(desc) }

    /// Adds a consumer to a pool memory: it returns to the pool after one more `release`.
    public func hold(_ m: Memory) {
        holds[ObjectIdentifier(m), default: 0] += 1
    }

    /// Whether `m` is pool memory that has not been given back yet.
    public func isLive(_ m: Memory) -> Bool { open[ObjectIdentifier(m)] != nil }

    /// Gives a pool memory back once every holder has released it (no-op for other memory):
    /// operations appended from now on may reuse its bytes.
    public func release(_ m: Memory) {
        let id = ObjectIdentifier(m)
        if let h = holds[id], h > 0 {
            holds[id] = h - 1
            return
        }
        if let i = open.removeValue(forKey: id) { requests[i].end = now }
    }

    /// Lays out the pool arena and points every pool memory into it. Call once, after planning.
    ///
    /// Greedy placement, largest first: each memory goes to the lowest 4 KiB-aligned offset
    /// where it overlaps no already placed memory whose lifetime overlaps its own. Memory never
    /// given back lives to the end of the plan.
    public func finish() {
        let align = 4096
        var placed: [(offset: Int, size: Int, start: Int, end: Int)] = []
        var offsets = [Int](repeating: 0, count: requests.count)
        let order = requests.indices.sorted {
            requests[$0].bytes != requests[$1].bytes ? requests[$0].bytes > requests[$1].bytes : requests[$0].start < requests[$1].start
        }
        var total = 0
        for i in order {
            let r = requests[i]
            let size = (max(r.bytes, 1) + align - 1) / align * align
            let conflicts = placed.filter { $0.start < r.end && r.start < $0.end }.sorted { $0.offset < $1.offset }
            var offset = 0
            for c in conflicts {
                if offset + size <= c.offset { break }
                offset = max(offset, c.offset + c.size)
            }
            placed.append((offset, size, r.start, r.end))
            offsets[i] = offset
            total = max(total, offset + size)
        }
        if getenv("SIMCLR_DEBUG_POOL") != nil { debugPeak() }  // prints what is live at the peak
        poolBytes = total
        activationBytes += total
        if measuring { return }
        let buffer = DeviceBuffer(byteCount: max(total, 64))  // kept alive by the memories that point into it
        for (i, r) in requests.enumerated() { r.memory.rebind(buffer.pointer + offsets[i], owner: buffer) }
    }

    private func debugPeak() {
        let ops = forwardOps + backwardOps
        func name(_ t: Int) -> String {
            guard t < ops.count else { return "end" }
            if case .primitive(let p) = ops[t] { return p.name } else { return "host" }
        }
        var best = (0, 0)
        for t in 0..<ops.count {
            let live = requests.filter { $0.start <= t && t < $0.end }.reduce(0) { $0 + $1.bytes }
            if live > best.1 { best = (t, live) }
        }
        let t = best.0
        FileHandle.standardError.write("pool peak \(best.1 >> 20) MiB at op \(t) \(name(t))\n".data(using: .utf8)!)
        for r in requests where r.start <= t && t < r.end {
            FileHandle.standardError.write("  \(r.bytes >> 20) MiB [\(r.start) \(name(r.start)) .. \(r.end) \(name(r.end))]\n".data(using: .utf8)!)
        }
    }

    /// The most pool memories alive at one time (after `finish()`, for reports).
    public var peakLivePoolMemories: Int {
        var events: [(Int, Int)] = []
        for r in requests { events.append((r.start, 1)); if r.end != Int.max { events.append((r.end, -1)) } }
        events.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var live = 0, peak = 0
        for (_, d) in events { live += d; peak = max(peak, live) }
        return peak
    }
}

/// Appends backward ops that compute a forward value again into new pool memory.
public typealias Rebuild = (PlanBuilder) throws -> Memory

/// A forward value that a plan does not keep (it lived in pool memory and died after its forward
/// consumers) and that backward rebuilds where it is needed. Every backward reader takes it with
/// `take(_:)` and gives it back with `PlanBuilder.release(_:)`. It is rebuilt at the first take
/// and that memory serves the next `uses - 1` takes too, so readers that follow each other share
/// one rebuild; a take beyond `uses` rebuilds again.
public final class RebuiltValue {
    private let rebuild: Rebuild
    /// Backward readers, declared while the forward pass is planned.
    public private(set) var uses: Int
    private var current: Memory?
    private var served = 0

    public init(uses: Int, rebuild: @escaping Rebuild) {
        self.uses = uses
        self.rebuild = rebuild
    }

    /// Declares `n` more backward readers.
    public func addUses(_ n: Int) { uses += n }

    public func take(_ b: PlanBuilder) throws -> Memory {
        if let m = current, served < uses {
            served += 1
            return m
        }
        let m = try rebuild(b)
        for _ in 1..<max(uses, 1) { b.hold(m) }
        current = m
        served = 1
        return m
    }
}

/// A layer whose output need not be kept for backward (it can rebuild it), or which can take
/// such an input.
public protocol RebuildingLayer: PlannedLayer {
    /// Whether the layer takes an input in pool memory with a `RebuiltValue` for its backward.
    var acceptsRebuiltInput: Bool { get }
    /// Plans like `plan(_:_:needInputGradient:)`. With `rebuiltInput`, `x` is pool memory that
    /// this layer releases once its forward ops are planned; the layer declares its backward
    /// readers of x on `rebuiltInput` and takes x from it. With `transientOutput` the layer may
    /// leave its output in pool memory (the next layer releases it) and return how to rebuild it;
    /// if it returns nil, the output is kept as usual.
    func planRebuilding(_ x: Memory, rebuiltInput: RebuiltValue?, _ b: PlanBuilder, needInputGradient: Bool,
                        transientOutput: Bool) throws -> (output: Memory, backward: BackwardPlanner?, rebuilt: RebuiltValue?)
}

/// A layer that can be planned: forward ops now, backward ops through the returned planner.
public protocol PlannedLayer: AnyObject {
    /// Appends the forward operations for input `x` and returns the output memory and the
    /// planner of the backward pass (nil in inference plans).
    func plan(_ x: Memory, _ b: PlanBuilder, needInputGradient: Bool) throws -> (Memory, BackwardPlanner?)
    var parameters: [Parameter] { get }
    var buffers: [Buffer] { get }
}

/// A reorder op from `src` to a new memory of layout `dst` (or `src` itself when equal).
func reordered(_ src: Memory, to dst: MemoryDesc, _ b: PlanBuilder, backward: Bool = false) throws -> Memory {
    if src.desc == dst { return src }
    let out = backward ? b.gradient(dst) : b.activation(dst)
    let r = try Primitive(reorderFrom: src.desc, to: dst)
    r.bind([(Arg.src, src), (Arg.dst, out)])
    if backward { b.backward(r) } else { b.forward(r) }
    return out
}
