// SafeTensorsError: every way a safetensors file, or matching it to a model, can be refused;
// each message names the file, the tensor and what was expected.

import Foundation

/// A problem with a safetensors file or with matching it to a model; the message names the file,
/// the tensor and what was expected.
public enum SafeTensorsError: LocalizedError, Equatable {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// Fewer than 8 bytes: no header length.
    case tooShort(path: String, fileSize: Int)
    /// The header length points past the end of the file (or is absurdly large).
    case headerBeyondFile(path: String, headerLength: UInt64, fileSize: Int)
    /// The header is not a JSON object of the expected form.
    case invalidHeader(path: String, reason: String)
    /// One entry of the header is malformed (bad dtype, shape or offsets).
    case invalidEntry(path: String, tensor: String, reason: String)
    /// The data section ends before the bytes of `tensor`.
    case truncated(path: String, tensor: String, neededBytes: Int, availableBytes: Int)
    /// Bytes after the last tensor that belong to no tensor.
    case trailingBytes(path: String, count: Int)
    /// The model expects tensors the file does not hold (`expected` describes each: "F32 [64]").
    case missingTensors(path: String, names: [String], expected: [String])
    /// The file holds tensors the model does not expect (strict loading).
    case unexpectedTensors(path: String, names: [String])
    /// A tensor's shape differs from the model's.
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    /// A tensor's dtype differs from the model's.
    case dtypeMismatch(path: String, tensor: String, expected: String, found: String)
    /// `tensor(named:)` / `read(_:into:)` on a name the file does not hold.
    case noSuchTensor(path: String, tensor: String)
    /// Saving or loading: two of the model's tensors have the same name.
    case duplicateName(path: String, tensor: String)
    /// Saving: an integer buffer holds a value that is not an integer.
    case notAnInteger(path: String, tensor: String, index: Int, value: Float)
    /// Saving: a dtype this writer does not produce.
    case unsupportedWriteDType(path: String, tensor: String, dtype: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read safetensors file \(path): \(reason)"
        case let .tooShort(path, size):
            return "safetensors file \(path) is \(size) bytes long; expected at least 8 (the header length)"
        case let .headerBeyondFile(path, length, size):
            return "safetensors file \(path): header length \(length) goes beyond the end of the file "
                + "(\(size) bytes, so at most \(max(size - 8, 0)) header bytes); the file is truncated or not safetensors"
        case let .invalidHeader(path, reason):
            return "safetensors file \(path): invalid JSON header: \(reason)"
        case let .invalidEntry(path, tensor, reason):
            return "safetensors file \(path): tensor '\(tensor)': \(reason)"
        case let .truncated(path, tensor, needed, available):
            return "safetensors file \(path) is truncated: tensor '\(tensor)' needs data bytes up to \(needed) "
                + "but the data section holds only \(available) bytes"
        case let .trailingBytes(path, count):
            return "safetensors file \(path): \(count) bytes after the last tensor belong to no tensor"
        case let .missingTensors(path, names, expected):
            let items = zip(names, expected).map { "'\($0)' (expected \($1))" }
            return "safetensors file \(path): missing tensor\(names.count == 1 ? "" : "s") "
                + SafeTensorsError.list(items)
        case let .unexpectedTensors(path, names):
            return "safetensors file \(path): unexpected tensor\(names.count == 1 ? "" : "s") "
                + SafeTensorsError.list(names.map { "'\($0)'" })
                + " not in the model (load with strict: false, or exclude their prefix, to ignore them)"
        case let .shapeMismatch(path, tensor, expected, found):
            return "safetensors file \(path): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .dtypeMismatch(path, tensor, expected, found):
            return "safetensors file \(path): tensor '\(tensor)' has dtype \(found), expected \(expected)"
        case let .noSuchTensor(path, tensor):
            return "safetensors file \(path) has no tensor '\(tensor)'"
        case let .duplicateName(path, tensor):
            return "safetensors file \(path): two tensors of the model are named '\(tensor)'; names must be unique"
        case let .notAnInteger(path, tensor, index, value):
            return "cannot save \(path): integer tensor '\(tensor)' holds \(value) at index \(index); "
                + "expected a whole number within the I64 range"
        case let .unsupportedWriteDType(path, tensor, dtype):
            return "cannot save \(path): tensor '\(tensor)' has dtype \(dtype); only F32 and I64 are written"
        }
    }

    /// "a, b, c" with at most 12 items, then "and N more".
    static func list(_ items: [String]) -> String {
        let shown = items.prefix(12).joined(separator: ", ")
        return items.count > 12 ? "\(shown) and \(items.count - 12) more" : shown
    }

    /// The message of any error: its `errorDescription`, else Foundation's description.
    static func reason(_ error: Error) -> String {
        (error as? LocalizedError)?.errorDescription ?? (error as NSError).localizedDescription
    }
}
