// Tensor: a dense Float32 array with a shape, on the host, in plain row-major order
// (NCHW for images, [N, D] for features). This is the boundary type of swift-simclr:
// inputs, losses, parameters, gradients and weights I/O use it. Inside the network,
// activations live in oneDNN memory in whatever blocked layout oneDNN prefers.
//
// Ownership: a Tensor owns its 64-byte-aligned buffer and frees it in deinit.
// It has reference semantics (a class): optimizers update parameters in place and
// layers hand out views of their gradient buffers without copies. Call `copy()` for
// an independent tensor.

import Foundation

public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    /// Dimensions, outermost first (e.g. [N, C, H, W]).
    public let shape: [Int]
    /// Number of elements (product of `shape`).
    public let count: Int
    /// Start of the 64-byte-aligned storage of `count` floats.
    public let data: UnsafeMutablePointer<Float>

    /// A zero-filled tensor.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.data = Tensor.allocate(count)
        data.initialize(repeating: 0, count: count)
    }

    /// A tensor holding `values` (row-major); `values.count` must equal the shape's product.
    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "Tensor: \(values.count) values for shape \(shape) (\(count) expected)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// A tensor filled with `value`.
    public convenience init(shape: [Int], repeating value: Float) {
        self.init(shape: shape)
        data.update(repeating: value, count: count)
    }

    deinit { free(data) }

    static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        let bytes = max(n, 1) * MemoryLayout<Float>.stride
        let rc = posix_memalign(&raw, 64, (bytes + 63) & ~63)
        precondition(rc == 0 && raw != nil, "Tensor: cannot allocate \(bytes) bytes")
        return raw!.bindMemory(to: Float.self, capacity: max(n, 1))
    }

    /// Element access by flat (row-major) index.
    @inlinable public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    /// The storage as a buffer pointer (valid while the tensor lives).
    @inlinable public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: data, count: count)
    }

    /// A copy of the values as a Swift array.
    public var array: [Float] { Array(buffer) }

    /// An independent copy.
    public func copy() -> Tensor {
        let t = Tensor(shape: shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// Copies `other`'s values into this tensor; the counts must match.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "Tensor.assign: \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }

    /// Sets every element to zero.
    public func zero() { data.update(repeating: 0, count: count) }

    /// Sets every element to `value`.
    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    /// Bytes of storage.
    public var byteCount: Int { count * MemoryLayout<Float>.stride }

    public var description: String {
        let head = buffer.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(head)\(count > 8 ? ", ..." : "")])"
    }
}

extension Tensor {
    /// A copy with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "reshaped: \(shape) to \(newShape)")
        let t = Tensor(shape: newShape)
        t.data.update(from: data, count: count)
        return t
    }
}
