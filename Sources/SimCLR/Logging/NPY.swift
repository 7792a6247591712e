// NumPy .npy files (format version 1.0), so that `simclr embed` features and labels load with
// `numpy.load`. Layout (numpy.lib.format, NEP 1):
//   "\x93NUMPY" | major 1 | minor 0 | uint16 LE header length | header | raw little-endian data
// where the header is the ASCII dict "{'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }"
// padded with spaces and ended by '\n' so that the data starts at a multiple of 64 bytes.
// Written: float32 ('<f4') and int64 ('<i8'), C order. Read back (tests, tools): '<f4', '<f8'
// (converted to Float), '<i8', '<i4' (converted to Int64), format versions 1.0 and 2.0.

import Foundation
import TensorCore

#if _endian(big)
#error("NPY.swift writes host memory as little-endian data")
#endif

/// A problem reading or writing a .npy file; messages name the file and what was expected.
public enum NPYError: LocalizedError {
    case cannotWrite(String, String)
    case cannotRead(String, String)
    case notNPY(String, String)
    case unsupportedDType(String, String)
    case fortranOrder(String)
    case sizeMismatch(String, expected: Int, actual: Int)

    public var errorDescription: String? {
        switch self {
        case let .cannotWrite(path, why): return "\(path): cannot write the .npy file (\(why))"
        case let .cannotRead(path, why): return "\(path): cannot read the .npy file (\(why))"
        case let .notNPY(path, why): return "\(path): not a NumPy .npy file (\(why))"
        case let .unsupportedDType(path, descr):
            return "\(path): dtype '\(descr)' is not supported (expected '<f4', '<f8', '<i8' or '<i4')"
        case let .fortranOrder(path): return "\(path): Fortran-order arrays are not supported (expected C order)"
        case let .sizeMismatch(path, expected, actual):
            return "\(path): \(actual) data bytes for the header's shape (\(expected) expected)"
        }
    }
}

/// An array read from a .npy file: its shape and its values (row-major).
public struct NPYArray: Equatable, Sendable {
    public enum Values: Equatable, Sendable {
        case float32([Float])
        case int64([Int64])
    }

    public var shape: [Int]
    public var values: Values
    /// The dtype string of the file ('<f4', '<i8', ...).
    public var descr: String

    /// The values as a Tensor with the file's shape, for float arrays.
    public var tensor: Tensor? {
        guard case let .float32(v) = values else { return nil }
        return Tensor(shape: shape, values: v)
    }

    /// The values for integer arrays.
    public var int64Values: [Int64]? {
        guard case let .int64(v) = values else { return nil }
        return v
    }
}

/// Writing and reading .npy files (format 1.0, C order, little-endian).
public enum NPY {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The full preamble (magic, version, header length, header dict) for `descr` and `shape`,
    /// padded with spaces and a final '\n' to a multiple of 64 bytes.
    public static func header(descr: String, shape: [Int]) -> [UInt8] {
        let dims = shape.map(String.init)
        let shapeText = shape.count == 1 ? "(\(dims[0]),)" : "(\(dims.joined(separator: ", ")))"
        var dict = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        let unpadded = magic.count + 2 + 2 + dict.count + 1
        let total = (unpadded + 63) / 64 * 64
        dict += [UInt8](repeating: 0x20, count: total - unpadded)
        dict.append(0x0A)
        precondition(dict.count <= Int(UInt16.max), "NPY: header of \(dict.count) bytes needs format 2.0")
        return magic + [1, 0, UInt8(dict.count & 0xFF), UInt8(dict.count >> 8)] + dict
    }

    /// Writes a float32 tensor ('<f4') with its shape.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try write(float32: UnsafeBufferPointer(tensor.buffer), shape: tensor.shape, to: url)
    }

    /// Writes `values` as a float32 array ('<f4') of `shape`.
    public static func write(float32 values: UnsafeBufferPointer<Float>, shape: [Int], to url: URL) throws {
        precondition(shape.reduce(1, *) == values.count, "NPY.write: \(values.count) values for shape \(shape)")
        let writer = try NPYWriter(url: url, descr: "<f4", shape: shape)
        try writer.append(UnsafeRawBufferPointer(values))
        try writer.finish()
    }

    /// Writes `values` as an int64 array ('<i8'); `shape` defaults to `[values.count]`.
    public static func write(int64 values: [Int64], shape: [Int]? = nil, to url: URL) throws {
        let shape = shape ?? [values.count]
        precondition(shape.reduce(1, *) == values.count, "NPY.write: \(values.count) values for shape \(shape)")
        let writer = try NPYWriter(url: url, descr: "<i8", shape: shape)
        try values.withUnsafeBytes { try writer.append($0) }
        try writer.finish()
    }

    /// Writes class labels as a 1-D int64 array ('<i8').
    public static func write(labels: [Int], to url: URL) throws {
        try write(int64: labels.map(Int64.init), to: url)
    }

    /// Reads a .npy file ('<f4' / '<f8' as Float32, '<i8' / '<i4' as Int64; C order).
    public static func read(_ url: URL) throws -> NPYArray {
        let path = url.path
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw NPYError.cannotRead(path, error.localizedDescription)
        }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw NPYError.notNPY(path, "missing the \\x93NUMPY magic string")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NPYError.notNPY(path, "truncated preamble") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw NPYError.notNPY(path, "format version \(major).\(bytes[7]) (expected 1.0, 2.0 or 3.0)")
        }
        guard bytes.count >= headerStart + headerLength else {
            throw NPYError.notNPY(path, "header of \(headerLength) bytes runs past the end of the file")
        }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        let (descr, fortran, shape) = try parseHeader(header, path: path)
        if fortran { throw NPYError.fortranOrder(path) }
        let itemSize: Int
        switch descr {
        case "<f4", "<i4": itemSize = 4
        case "<f8", "<i8": itemSize = 8
        default: throw NPYError.unsupportedDType(path, descr)
        }
        let dataStart = headerStart + headerLength
        // A declared shape whose byte count overflows cannot match any file.
        guard let count = checkedProduct(shape), let expected = checkedProduct([count, itemSize]) else {
            throw NPYError.notNPY(path, "shape \(shape) declares more elements than any file can hold")
        }
        guard bytes.count - dataStart == expected else {
            throw NPYError.sizeMismatch(path, expected: expected, actual: bytes.count - dataStart)
        }
        let values: NPYArray.Values = bytes[dataStart...].withUnsafeBytes { raw in
            switch descr {
            case "<f4": return .float32((0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) })
            case "<f8":
                return .float32((0..<count).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) })
            case "<i4":
                return .int64((0..<count).map { Int64(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) })
            default: return .int64((0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) })
            }
        }
        return NPYArray(shape: shape, values: values, descr: descr)
    }

    /// Parses "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }".
    static func parseHeader(_ header: String, path: String) throws -> (String, Bool, [Int]) {
        func value(after key: String) throws -> Substring {
            guard let r = header.range(of: "'\(key)':") else {
                throw NPYError.notNPY(path, "header has no '\(key)' entry: \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return header[r.upperBound...].drop { $0 == " " }
        }
        let d = try value(after: "descr")
        guard d.first == "'", let close = d.dropFirst().firstIndex(of: "'") else {
            throw NPYError.notNPY(path, "unreadable 'descr' entry")
        }
        let descr = String(d[d.index(after: d.startIndex)..<close])
        let fortran = try value(after: "fortran_order").hasPrefix("True")
        let s = try value(after: "shape")
        guard s.first == "(", let end = s.firstIndex(of: ")") else {
            throw NPYError.notNPY(path, "unreadable 'shape' entry")
        }
        var shape: [Int] = []
        for part in s[s.index(after: s.startIndex)..<end].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw NPYError.notNPY(path, "shape dimension '\(t)'") }
            shape.append(v)
        }
        return (descr, fortran, shape)
    }
}

/// Streams a large array to a .npy file: header first (the shape is known up front), then the
/// rows in as many `append` calls as convenient (e.g. one per evaluation batch).
public final class NPYWriter {
    public let url: URL
    public let shape: [Int]
    public let descr: String
    private var handle: FileHandle?
    private var written = 0
    private let expectedBytes: Int

    /// Creates (or replaces) the file and writes its header. `descr` is '<f4' or '<i8'.
    public init(url: URL, descr: String, shape: [Int]) throws {
        precondition(descr == "<f4" || descr == "<i8", "NPYWriter: descr \(descr)")
        self.url = url
        self.shape = shape
        self.descr = descr
        expectedBytes = shape.reduce(1, *) * (descr == "<f4" ? 4 : 8)
        guard FileManager.default.createFile(atPath: url.path, contents: Data(NPY.header(descr: descr, shape: shape))),
            let h = FileHandle(forWritingAtPath: url.path)
        else { throw NPYError.cannotWrite(url.path, "cannot create the file") }
        do {
            try h.seekToEnd()
        } catch {
            throw NPYError.cannotWrite(url.path, error.localizedDescription)
        }
        handle = h
    }

    deinit { try? handle?.close() }

    /// Appends raw little-endian element bytes (whole elements, in C order).
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let handle else { throw NPYError.cannotWrite(url.path, "append after finish") }
        guard written + bytes.count <= expectedBytes else {
            throw NPYError.sizeMismatch(url.path, expected: expectedBytes, actual: written + bytes.count)
        }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        do {
            try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count,
                                              deallocator: .none))
        } catch {
            throw NPYError.cannotWrite(url.path, error.localizedDescription)
        }
        written += bytes.count
    }

    /// Appends float32 values (for '<f4' files).
    public func append(_ values: UnsafeBufferPointer<Float>) throws {
        precondition(descr == "<f4", "NPYWriter.append: Float values into a \(descr) file")
        try append(UnsafeRawBufferPointer(values))
    }

    /// Closes the file after checking that the whole shape was written.
    public func finish() throws {
        guard let h = handle else { return }
        handle = nil
        try? h.close()
        guard written == expectedBytes else {
            throw NPYError.sizeMismatch(url.path, expected: expectedBytes, actual: written)
        }
    }
}
