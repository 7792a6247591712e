// oneDNN through its C API. This folder is the only code that calls oneDNN: the layers above
// (NN) build primitives through the typed descriptors of the `DNNL+*.swift` files and never see
// a C type.
//
// Ownership rule: every oneDNN handle (engine, stream, memory, primitive descriptor, primitive,
// attribute, post-ops) is owned by exactly one `final class` below, created in its initialiser
// and destroyed in its `deinit`. Nothing else calls a `dnnl_*_destroy`. Memory objects never
// allocate: they wrap a buffer owned by a `DeviceBuffer` (64-byte aligned host memory), so the
// planner decides what lives when and nothing is allocated during a training step.

import CDNNL
import Foundation

// MARK: - Status

/// A failed oneDNN call, naming the call and oneDNN's status.
public struct DNNLError: LocalizedError, CustomStringConvertible {
    public let call: String
    let status: dnnl_status_t
    public var errorDescription: String? { "oneDNN call \(call) failed: \(DNNLError.name(status))" }
    public var description: String { errorDescription! }

    static func name(_ s: dnnl_status_t) -> String {
        switch s {
        case dnnl_out_of_memory: return "out of memory"
        case dnnl_invalid_arguments: return "invalid arguments"
        case dnnl_unimplemented: return "unimplemented (no implementation for these shapes/formats)"
        case dnnl_iterator_ends: return "iterator ends"
        case dnnl_runtime_error: return "runtime error"
        case dnnl_not_required: return "not required"
        default: return "status \(s.rawValue)"
        }
    }
}

/// Turns a oneDNN status into a Swift throw naming the call.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ call: @autoclosure () -> String) throws {
    if status != dnnl_success { throw DNNLError(call: call(), status: status) }
}

// MARK: - Argument indices (C macros that Swift does not import)

public enum Arg {
    public static let src: Int32 = 1, src1: Int32 = 2
    public static let dst: Int32 = 17
    public static let weights: Int32 = 33, bias: Int32 = 41
    public static let mean: Int32 = 49, variance: Int32 = 50
    public static let scale: Int32 = 51, shift: Int32 = 52
    public static let workspace: Int32 = 64, scratchpad: Int32 = 80
    public static let diffSrc: Int32 = 129, diffDst: Int32 = 145
    public static let diffWeights: Int32 = 161, diffBias: Int32 = 169
    public static let diffScale: Int32 = 255, diffShift: Int32 = 256
    /// Source 1 of the binary post-op at position `index`.
    public static func postOpSrc1(_ index: Int32) -> Int32 { (16384 * (index + 1)) | 2 }
}

// MARK: - Engine and stream

/// The CPU engine and its stream, created once per process.
public final class DNNLContext: @unchecked Sendable {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t

    public static let shared: DNNLContext = {
        do { return try DNNLContext() } catch { fatalError("oneDNN: cannot create the CPU engine: \(error)") }
    }()

    private init() throws {
        var e: dnnl_engine_t?
        try dnnlCheck(dnnl_engine_create(&e, dnnl_cpu, 0), "dnnl_engine_create")
        var s: dnnl_stream_t?
        try dnnlCheck(dnnl_stream_create(&s, e, dnnl_stream_default_flags.rawValue), "dnnl_stream_create")
        engine = e!
        stream = s!
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    /// Blocks until every primitive submitted to the stream has finished.
    public func wait() { dnnl_stream_wait(stream) }

    /// "2.6.3" and the like.
    public static var version: String {
        let v = dnnl_version()!.pointee
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// The instruction set oneDNN dispatches to on this machine.
    public static var isa: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx512_mic: return "avx512_mic"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        default: return "isa 0x" + String(dnnl_get_effective_cpu_isa().rawValue, radix: 16)
        }
    }
}

// MARK: - Memory descriptors

/// A value wrapper around `dnnl_memory_desc_t` (a plain C struct in oneDNN 2.x).
public struct MemoryDesc: @unchecked Sendable, Equatable {
    var raw: dnnl_memory_desc_t

    init(raw: dnnl_memory_desc_t) { self.raw = raw }

    /// A Float32 descriptor of `dims` in format `tag` (`dnnl_format_tag_any` lets a primitive choose).
    init(_ dims: [Int], _ tag: dnnl_format_tag_t) {
        var md = dnnl_memory_desc_t()
        let d = dnnlDims(dims)
        let st = withDims(d) { dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), $0, dnnl_f32, tag) }
        precondition(st == dnnl_success, "dnnl_memory_desc_init_by_tag(\(dims)) failed: \(DNNLError.name(st))")
        raw = md
    }

    /// Plain row-major layout for 1-D to 4-D (x, nc, ncw, nchw).
    public static func plain(_ dims: [Int]) -> MemoryDesc {
        let tags: [dnnl_format_tag_t] = [dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd]
        return MemoryDesc(dims, tags[dims.count - 1])
    }

    /// A descriptor that lets the primitive pick its preferred (blocked) layout.
    public static func any(_ dims: [Int]) -> MemoryDesc { MemoryDesc(dims, dnnl_format_tag_any) }

    public var dims: [Int] {
        var r = raw
        return withUnsafeBytes(of: &r.dims) { Array($0.bindMemory(to: Int64.self).prefix(Int(raw.ndims))).map(Int.init) }
    }

    /// Bytes a buffer of this layout needs (including blocked padding).
    public var byteCount: Int {
        var r = raw
        return dnnl_memory_desc_get_size(&r)
    }

    public static func == (a: MemoryDesc, b: MemoryDesc) -> Bool {
        var x = a.raw, y = b.raw
        return dnnl_memory_desc_equal(&x, &y) != 0
    }
}

// MARK: - Buffers and memory objects

/// 64-byte aligned host memory, owned; freed in deinit.
public final class DeviceBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int

    /// Number of buffers allocated so far in this process (tests use it to show that a
    /// training step allocates nothing once planned).
    nonisolated(unsafe) public private(set) static var allocations = 0

    public init(byteCount: Int) {
        DeviceBuffer.allocations += 1
        var raw: UnsafeMutableRawPointer?
        let n = max(64, (byteCount + 63) & ~63)
        precondition(posix_memalign(&raw, 64, n) == 0 && raw != nil, "cannot allocate \(n) bytes")
        pointer = raw!
        self.byteCount = byteCount
        memset(pointer, 0, n)
    }

    deinit { free(pointer) }

    public var floats: UnsafeMutablePointer<Float> { pointer.assumingMemoryBound(to: Float.self) }
}

/// A oneDNN memory object over a buffer it does not own (kept alive through `storage`).
public final class Memory: @unchecked Sendable {
    public let desc: MemoryDesc
    let handle: dnnl_memory_t
    /// The owner of the bytes, if this object keeps them alive.
    public private(set) var storage: AnyObject?
    public private(set) var pointer: UnsafeMutableRawPointer

    /// A memory object with a fresh buffer of its own.
    public convenience init(_ desc: MemoryDesc) {
        let buffer = DeviceBuffer(byteCount: desc.byteCount)
        self.init(desc, pointer: buffer.pointer, owner: buffer)
    }

    /// A memory object over `pointer` (at least `desc.byteCount` bytes), kept alive by `owner`.
    public init(_ desc: MemoryDesc, pointer: UnsafeMutableRawPointer, owner: AnyObject?) {
        self.desc = desc
        var md = desc.raw
        var h: dnnl_memory_t?
        let st = dnnl_memory_create(&h, &md, DNNLContext.shared.engine, pointer)
        precondition(st == dnnl_success, "dnnl_memory_create failed: \(DNNLError.name(st))")
        handle = h!
        self.pointer = pointer
        storage = owner
    }

    deinit { dnnl_memory_destroy(handle) }

    /// Points this memory object at other bytes (same layout).
    public func rebind(_ pointer: UnsafeMutableRawPointer, owner: AnyObject?) {
        dnnl_memory_set_data_handle(handle, pointer)
        self.pointer = pointer
        storage = owner
    }

    public var floats: UnsafeMutablePointer<Float> { pointer.assumingMemoryBound(to: Float.self) }
}

// MARK: - Primitives

/// Attributes for a primitive: user-managed scratchpad always, optional eltwise post-op.
public final class PrimitiveAttr {
    let handle: dnnl_primitive_attr_t
    private var postOps: dnnl_post_ops_t?

    public init() {
        var a: dnnl_primitive_attr_t?
        precondition(dnnl_primitive_attr_create(&a) == dnnl_success)
        handle = a!
        dnnl_primitive_attr_set_scratchpad_mode(handle, dnnl_scratchpad_mode_user)
    }

    /// Appends an eltwise post-op with scale 1 (e.g. ReLU after a binary add): dst = f(dst).
    public func appendEltwise(_ alg: EltwiseAlgorithm, alpha: Float = 0, beta: Float = 0) throws {
        if postOps == nil {
            var p: dnnl_post_ops_t?
            try dnnlCheck(dnnl_post_ops_create(&p), "dnnl_post_ops_create")
            postOps = p
        }
        try dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1.0, alg.raw, alpha, beta), "dnnl_post_ops_append_eltwise")
        try dnnlCheck(dnnl_primitive_attr_set_post_ops(handle, postOps), "dnnl_primitive_attr_set_post_ops")
    }

    deinit {
        if let p = postOps { dnnl_post_ops_destroy(p) }
        dnnl_primitive_attr_destroy(handle)
    }
}

/// One shared scratchpad for primitives without their own (they run one at a time), grown on
/// demand. Planned networks give each primitive pooled memory instead (`Primitive.useScratchpad`).
final class Scratchpad: @unchecked Sendable {
    nonisolated(unsafe) static let shared = Scratchpad()
    private(set) var buffer = DeviceBuffer(byteCount: 64)

    func reserve(_ bytes: Int) {
        if bytes > buffer.byteCount { buffer = DeviceBuffer(byteCount: bytes) }
    }
}

/// A primitive descriptor and its primitive, with arguments bound once.
public final class Primitive: @unchecked Sendable {
    let pd: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    public let name: String
    private var args: [dnnl_exec_arg_t] = []
    private var bound: [Memory] = []
    /// The scratchpad this primitive needs (nil if none).
    public let scratchpadDesc: MemoryDesc?
    /// Its scratchpad: memory a plan gave it (`useScratchpad`), or else the shared one.
    private var scratch: Memory?
    private var scratchIsShared = false

    /// Creates the primitive from a zeroed C op descriptor of type `T` (e.g. dnnl_convolution_desc_t)
    /// that `initDesc` fills by calling the C function named `initCall`. `hint` is the forward
    /// primitive a backward one is created for.
    convenience init<T>(_ name: String, _ type: T.Type, initCall: String, attr: PrimitiveAttr = PrimitiveAttr(),
                        hint: Primitive? = nil, _ initDesc: (UnsafeMutablePointer<T>) -> dnnl_status_t) throws {
        let desc = UnsafeMutablePointer<T>.allocate(capacity: 1)
        defer { desc.deallocate() }
        memset(desc, 0, MemoryLayout<T>.size)
        try dnnlCheck(initDesc(desc), "\(initCall)(\(name))")
        var p: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&p, UnsafeRawPointer(desc), attr.handle, DNNLContext.shared.engine, hint?.pd),
                      "dnnl_primitive_desc_create(\(name))")
        try self.init(name, pd: p!)
    }

    /// Number of primitives created so far in this process (see `DeviceBuffer.allocations`).
    nonisolated(unsafe) public private(set) static var creations = 0

    /// Takes ownership of `pd` (destroyed here if the primitive cannot be created).
    init(_ name: String, pd: dnnl_primitive_desc_t) throws {
        Primitive.creations += 1
        self.name = name
        self.pd = pd
        var prim: dnnl_primitive_t?
        let st = dnnl_primitive_create(&prim, pd)
        if st != dnnl_success { dnnl_primitive_desc_destroy(pd) }
        try dnnlCheck(st, "dnnl_primitive_create(\(name))")
        primitive = prim!
        if let md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0), md.pointee.ndims > 0 {
            let desc = MemoryDesc(raw: md.pointee)
            scratchpadDesc = desc.byteCount > 0 ? desc : nil
        } else {
            scratchpadDesc = nil
        }
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(pd)
    }

    /// The layout the primitive chose for `what` (e.g. `.src`), index `index` of that kind.
    public func md(_ what: MemoryQuery, _ index: Int32 = 0) -> MemoryDesc {
        MemoryDesc(raw: dnnl_primitive_desc_query_md(pd, what.raw, index)!.pointee)
    }

    /// The implementation oneDNN dispatched to, e.g. "jit:avx512_core" or "jit_wino_4x3:avx512_core".
    public var implementation: String {
        var info: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info) == dnnl_success, let info else { return "?" }
        return String(cString: info)
    }

    /// Bytes of scratchpad this primitive needs (0 if none).
    public var scratchpadBytes: Int { scratchpadDesc?.byteCount ?? 0 }

    /// Bytes of workspace this primitive needs (0 if none).
    public var workspaceDesc: MemoryDesc? {
        guard let p = dnnl_primitive_desc_query_md(pd, dnnl_query_workspace_md, 0) else { return nil }
        let d = MemoryDesc(raw: p.pointee)
        return d.byteCount > 0 ? d : nil
    }

    /// Binds the arguments used by every later `run()`.
    public func bind(_ arguments: [(Int32, Memory)]) {
        bound = arguments.map { $0.1 }
        args = arguments.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.handle) }
        if let s = scratch { args.append(dnnl_exec_arg_t(arg: Arg.scratchpad, memory: s.handle)) }
    }

    /// Gives the primitive its own scratchpad memory (of `scratchpadDesc`), e.g. a plan's pooled
    /// memory that other values reuse outside this primitive's execution. Without it, the first
    /// `run()` falls back to the process-wide shared scratchpad.
    public func useScratchpad(_ memory: Memory) {
        precondition(scratchpadDesc != nil && memory.desc.byteCount >= scratchpadDesc!.byteCount,
                     "useScratchpad(\(name)): memory too small or no scratchpad needed")
        setScratchpad(memory, shared: false)
    }

    private func setScratchpad(_ memory: Memory, shared: Bool) {
        args.removeAll { $0.arg == Arg.scratchpad }
        scratch = memory
        scratchIsShared = shared
        args.append(dnnl_exec_arg_t(arg: Arg.scratchpad, memory: memory.handle))
    }

    private func attachSharedScratchpad() {
        guard let desc = scratchpadDesc else { return }
        Scratchpad.shared.reserve(desc.byteCount)
        setScratchpad(Memory(desc, pointer: Scratchpad.shared.buffer.pointer, owner: nil), shared: true)
    }

    /// Executes with the bound arguments.
    @inline(__always)
    public func run() {
        if scratch == nil, scratchpadDesc != nil { attachSharedScratchpad() }
        if scratchIsShared, let s = scratch, s.pointer != Scratchpad.shared.buffer.pointer {
            s.rebind(Scratchpad.shared.buffer.pointer, owner: nil)
        }
        let st = args.withUnsafeBufferPointer {
            dnnl_primitive_execute(primitive, DNNLContext.shared.stream, Int32($0.count), $0.baseAddress)
        }
        if st != dnnl_success {
            // A failed execute means a planning bug (wrong arguments bound): stop loudly.
            fatalError("dnnl_primitive_execute(\(name)) failed: \(DNNLError.name(st))")
        }
    }

    /// Binds and executes once.
    public func run(_ arguments: [(Int32, Memory)]) {
        bind(arguments)
        run()
    }
}

// MARK: - dims helper

/// Fills a `dnnl_dims_t` (a C array of 12 Int64) from Swift integers.
func dnnlDims(_ values: [Int]) -> dnnl_dims_t {
    precondition(values.count <= 12, "oneDNN takes at most 12 dimensions")
    var d: dnnl_dims_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    withUnsafeMutableBytes(of: &d) { raw in
        let p = raw.bindMemory(to: Int64.self)
        for (i, v) in values.enumerated() { p[i] = Int64(v) }
    }
    return d
}

/// Calls `body` with a pointer to the 12 Int64 of `dims` (the C type `const dnnl_dims_t`).
@inline(__always)
func withDims<R>(_ dims: dnnl_dims_t, _ body: (UnsafePointer<Int64>) throws -> R) rethrows -> R {
    var d = dims
    return try withUnsafePointer(to: &d) { try $0.withMemoryRebound(to: Int64.self, capacity: 12, body) }
}
