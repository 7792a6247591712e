// Execution plans: a network is "compiled" once per input shape into two flat lists of
// operations (forward, backward) over memory that is allocated once. After the first step of a
// given shape, a training step creates no primitive and allocates no activation or gradient
// buffer: it replays the lists.
//
// Planning works layer by layer: `plan(_:_:)` on a layer appends its forward operations, returns
// its output memory, and returns a closure that later plans its backward pass. The builder
// plans the backward closures in reverse order. Gradients of activations live in a small pool of
// shared slots (sized to the largest activation): a slot is taken when a gradient is produced
// and given back when its consumer has run, so backward needs three or four activation-sized
// buffers, not one per layer.

import CDNNL
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
/// the closure must give back when done, unless it hands the same slot on), it returns the
/// gradient of its input, or nil where no input gradient is needed.
public typealias BackwardPlanner = (_ dy: Memory, _ b: PlanBuilder) throws -> Memory?

/// Collects the operations and memory of one plan.
///
/// Memory comes in two kinds. Activations (`activation(_:)`) are owned by the plan and live as
/// long as it: what backward reads. Pool memory (`gradient(_:)`, also used for forward values
/// that die right after their consumer) lives in shared slots: a slot is taken, and given back
/// with `release(_:)` once every operation that reads it has been appended; later operations may
/// then overwrite it. Slots are allocated in `finish()`, sized to the largest request.
public final class PlanBuilder {
    public let training: Bool
    /// How convolutions that could use Winograd are computed (see `ConvolutionAlgorithm`).
    public let convolutionAlgorithm: ConvolutionAlgorithm
    public internal(set) var forwardOps: [PlanOp] = []
    public internal(set) var backwardOps: [PlanOp] = []
    /// Everything this plan allocated, for the memory report.
    public internal(set) var activationBytes = 0
    var keepAlive: [AnyObject] = []

    // Slot pool: slot index per pool memory, holds (extra consumers) per pool memory.
    private var slotCount = 0
    private var slotBytes = 0
    private var freeSlots: [Int] = []
    private var slotOf: [ObjectIdentifier: Int] = [:]
    private var holds: [ObjectIdentifier: Int] = [:]
    private var pooled: [(Memory, Int)] = []
    private var slots: [DeviceBuffer] = []
    private static let placeholder = DeviceBuffer(byteCount: 64)

    public init(training: Bool, convolutionAlgorithm: ConvolutionAlgorithm = .auto) {
        self.training = training
        self.convolutionAlgorithm = convolutionAlgorithm
    }

    /// Appends a forward operation.
    public func forward(_ op: PlanOp) { forwardOps.append(op) }
    public func forward(_ p: Primitive) { forwardOps.append(.primitive(p)) }
    public func forwardHost(_ f: @escaping () -> Void) { forwardOps.append(.host(f)) }

    /// Appends a backward operation (in execution order).
    public func backward(_ p: Primitive) { backwardOps.append(.primitive(p)) }
    public func backwardHost(_ f: @escaping () -> Void) { backwardOps.append(.host(f)) }

    /// A new activation memory owned by the plan (kept for backward).
    public func activation(_ desc: MemoryDesc) -> Memory {
        let m = Memory(desc)
        activationBytes += desc.byteCount
        return m
    }

    /// Keeps an object alive as long as the plan.
    public func retain(_ o: AnyObject) { keepAlive.append(o) }

    /// Memory in a pooled slot (a gradient, or a forward value that dies after its consumer).
    public func gradient(_ desc: MemoryDesc) -> Memory {
        let index: Int
        if let i = freeSlots.popLast() {
            index = i
        } else {
            index = slotCount
            slotCount += 1
        }
        slotBytes = max(slotBytes, desc.byteCount)
        let m = Memory(desc, pointer: PlanBuilder.placeholder.pointer, owner: nil)
        slotOf[ObjectIdentifier(m)] = index
        pooled.append((m, index))  // also keeps `m` alive, so ObjectIdentifiers stay unique
        return m
    }

    /// Same as `gradient(_:)`: a forward value that is released once its consumers are planned.
    public func transient(_ desc: MemoryDesc) -> Memory { gradient(desc) }

    /// Adds a consumer to a pool memory: it returns to the pool after one more `release`.
    public func hold(_ m: Memory) {
        holds[ObjectIdentifier(m), default: 0] += 1
    }

    /// Returns a pool memory's slot once every holder has released it (no-op for other memory).
    public func release(_ m: Memory) {
        let id = ObjectIdentifier(m)
        if let h = holds[id], h > 0 {
            holds[id] = h - 1
            return
        }
        if let i = slotOf.removeValue(forKey: id) { freeSlots.append(i) }
    }

    /// Allocates the slots and points every pool memory at its slot. Call once, after planning.
    public func finish() {
        slots = (0..<slotCount).map { _ in DeviceBuffer(byteCount: slotBytes) }
        activationBytes += slotCount * slotBytes
        for (m, i) in pooled { m.rebind(slots[i].pointer, owner: slots[i]) }
    }

    /// Number of pooled slots.
    public var gradientSlots: Int { slotCount }
}

/// A layer that can be planned: forward ops now, backward ops through the returned planner.
public protocol PlannedLayer: AnyObject {
    /// Appends the forward operations for input `x` and returns the output memory and the
    /// planner of the backward pass (nil in inference plans).
    func plan(_ x: Memory, _ b: PlanBuilder, needInputGradient: Bool) throws -> (Memory, BackwardPlanner?)
    var parameters: [Parameter] { get }
    var buffers: [Buffer] { get }
}

/// Creates a primitive from a C op descriptor of type `T` filled by `initDesc`.
func makePrimitive<T>(
    _ name: String, _ type: T.Type, attr: PrimitiveAttr = PrimitiveAttr(), hint: Primitive? = nil,
    _ initDesc: (UnsafeMutablePointer<T>) -> dnnl_status_t
) throws -> Primitive {
    let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
    defer { p.deallocate() }
    memset(p, 0, MemoryLayout<T>.size)
    try dnnlCheck(initDesc(p), "\(name) descriptor init")
    return try Primitive(name, desc: UnsafeRawPointer(p), attr: attr, hint: hint)
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
