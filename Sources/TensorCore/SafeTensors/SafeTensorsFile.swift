// SafeTensorsFile: the reader. A file is read into memory once and its header fully validated;
// tensors are then copied out of it (converted to Float when asked) without per-element
// allocation.
//
// Every file is treated as hostile: the header length is checked against the file, every entry's
// dtype, shape and offsets are checked, and the tensors must tile the data section exactly
// (`SafeTensorsHeader+Validation.swift`). A failure is a thrown `SafeTensorsError` naming the file
// and the tensor, never a crash.

import Foundation

/// A safetensors file held in memory, its header parsed and fully validated.
///
/// Reading `tensor(named:)` or `read(_:into:)` copies (and converts) one tensor; the file is not
/// read again.
public struct SafeTensorsFile: Sendable {
    /// The file's path (used in every error message).
    public let path: String
    /// The `__metadata__` strings (empty if the file has none).
    public let metadata: [String: String]
    /// Every tensor of the header, by name.
    public let entries: [String: SafeTensorsEntry]
    /// The whole file.
    private let bytes: Data
    /// Offset of the data section within `bytes`.
    private let dataStart: Int

    /// The largest header accepted (the reference implementation's limit).
    public static var maximumHeaderLength: UInt64 { SafeTensorsHeader.maximumLength }

    /// Reads and validates the file at `url`.
    public init(contentsOf url: URL) throws {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw SafeTensorsError.unreadable(path: url.path, reason: SafeTensorsError.reason(error))
        }
        try self.init(bytes: bytes, path: url.path)
    }

    /// Validates a whole safetensors file held in `bytes`; `path` names it in errors.
    public init(bytes: Data, path: String) throws {
        let (json, dataStart) = try SafeTensorsHeader.locate(in: bytes, path: path)
        let header = try SafeTensorsHeader(decoding: json, path: path, dataLength: bytes.count - dataStart)
        self.path = path
        self.bytes = bytes
        self.dataStart = dataStart
        self.entries = header.entries
        self.metadata = header.metadata
    }

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// The entry named `name`, or a thrown `noSuchTensor`.
    public func entry(_ name: String) throws -> SafeTensorsEntry {
        guard let e = entries[name] else { throw SafeTensorsError.noSuchTensor(path: path, tensor: name) }
        return e
    }

    /// A new Float tensor with the values of `name`, converted from its dtype
    /// (F64 rounds to nearest; I64 / I32 convert exactly below 2^24).
    public func tensor(named name: String) throws -> Tensor {
        let e = try entry(name)
        let t = Tensor(shape: e.shape)
        copy(e, into: t.data)
        return t
    }

    /// Copies the values of `name` into `tensor` (converted to Float), after checking that the
    /// shapes are equal and, if `dtype` is given, that the file stores that dtype.
    public func read(_ name: String, into tensor: Tensor, requiring dtype: SafeTensorsDType? = nil) throws {
        let e = try entry(name)
        if let dtype, dtype != e.dtype {
            throw SafeTensorsError.dtypeMismatch(
                path: path, tensor: name, expected: dtype.rawValue, found: e.dtype.rawValue)
        }
        guard e.shape == tensor.shape else {
            throw SafeTensorsError.shapeMismatch(path: path, tensor: name, expected: tensor.shape, found: e.shape)
        }
        copy(e, into: tensor.data)
    }

    /// The exact integer values of an I64 or I32 tensor.
    public func integers(named name: String) throws -> [Int64] {
        let e = try entry(name)
        let values = withData(of: e) { e.dtype.decodeIntegers($0, count: e.count) }
        guard let values else {
            throw SafeTensorsError.dtypeMismatch(path: path, tensor: name, expected: "I64 or I32", found: e.dtype.rawValue)
        }
        return values
    }

    /// Converts the `e.count` elements of `e` into `out` (validated ranges: no bounds checks needed).
    private func copy(_ e: SafeTensorsEntry, into out: UnsafeMutablePointer<Float>) {
        guard e.count > 0 else { return }
        withData(of: e) { e.dtype.decode($0, count: e.count, into: out) }
    }

    /// `body` applied to the first byte of `e`'s data (valid only during the call).
    private func withData<R>(of e: SafeTensorsEntry, _ body: (UnsafeRawPointer) -> R) -> R {
        bytes.withUnsafeBytes { raw in body(raw.baseAddress! + dataStart + e.range.lowerBound) }
    }
}
