// SafeTensors: reading and writing weights in Hugging Face's safetensors format, and a strict
// state-dict loader over a model's named parameters and buffers.
//
// Layout of a file (https://github.com/huggingface/safetensors, "Format"):
//
//     [8 bytes: N, little-endian UInt64] [N bytes: UTF-8 JSON header] [data section]
//
// The header is a JSON object mapping each tensor name to
// `{"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}` (byte offsets relative
// to the start of the data section, row-major, little-endian values), plus an optional
// `"__metadata__": {"key": "value"}` object of strings. The header may be padded with spaces; this
// writer pads it so that the data section starts at a multiple of 8 bytes.
//
// Reading treats every file as hostile: the header length is checked against the file, every
// entry's dtype, shape and offsets are checked (size = product(shape) x dtype size, offsets inside
// the data section, tensors neither overlapping nor leaving holes, nothing after the last tensor,
// as the reference implementation requires), and a failure is a thrown `SafeTensorsError` naming
// the file and the tensor, never a crash. A file is read into memory once; tensors are copied out
// of it (with dtype conversion to Float when asked) without per-element allocation.
//
// Names follow torchvision's ResNet `state_dict` (`conv1.weight`, `bn1.running_mean`,
// `bn1.num_batches_tracked` as I64, `layer2.0.downsample.0.weight`, ...), and the projection head
// lives under `head.`, so that an encoder saved here loads with `strict=True` into
// `torchvision.models.resnet18()` with the CIFAR stem (see tools/check_torchvision_load.py).

import Foundation

/// Element types of the safetensors format that swift-simclr understands.
///
/// Written: `F32` (parameters, running statistics) and `I64` (`num_batches_tracked`).
/// Read: all of them, converted to `Float` on request.
public enum SafeTensorsDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = "F32"
    case f64 = "F64"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32, .i32: return 4
        case .f64, .i64: return 8
        case .f16, .bf16: return 2
        }
    }

    public var description: String { rawValue }
}

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
}

/// One tensor of a safetensors header.
public struct SafeTensorsEntry: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range within the data section.
    public let range: Range<Int>

    /// Number of elements (product of `shape`; 1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
}

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
    public static let maximumHeaderLength: UInt64 = 100 << 20

    /// Reads and validates the file at `url`.
    public init(contentsOf url: URL) throws {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw SafeTensorsError.unreadable(path: url.path, reason: Self.reason(error))
        }
        try self.init(bytes: bytes, path: url.path)
    }

    /// Validates a whole safetensors file held in `bytes`; `path` names it in errors.
    public init(bytes: Data, path: String) throws {
        self.path = path
        self.bytes = bytes
        let size = bytes.count
        guard size >= 8 else { throw SafeTensorsError.tooShort(path: path, fileSize: size) }
        let headerLength: UInt64 = bytes.withUnsafeBytes { raw in
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        }
        guard headerLength <= Self.maximumHeaderLength, headerLength <= UInt64(size - 8) else {
            throw SafeTensorsError.headerBeyondFile(path: path, headerLength: headerLength, fileSize: size)
        }
        let n = Int(headerLength)
        dataStart = 8 + n
        let header = bytes.subdata(in: bytes.startIndex + 8..<bytes.startIndex + 8 + n)
        let (entries, metadata) = try Self.parseHeader(header, path: path, dataLength: size - dataStart)
        self.entries = entries
        self.metadata = metadata
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
        guard e.dtype == .i64 || e.dtype == .i32 else {
            throw SafeTensorsError.dtypeMismatch(path: path, tensor: name, expected: "I64 or I32", found: e.dtype.rawValue)
        }
        return bytes.withUnsafeBytes { raw in
            let base = dataStart + e.range.lowerBound
            return (0..<e.count).map { i in
                e.dtype == .i64
                    ? Int64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * i, as: Int64.self))
                    : Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: Int32.self)))
            }
        }
    }

    /// Converts the `e.count` elements of `e` into `out` (validated ranges: no bounds checks needed).
    private func copy(_ e: SafeTensorsEntry, into out: UnsafeMutablePointer<Float>) {
        let n = e.count
        guard n > 0 else { return }
        bytes.withUnsafeBytes { raw in
            let src = raw.baseAddress! + dataStart + e.range.lowerBound
            switch e.dtype {
            case .f32:
                #if _endian(little)
                    UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: 4 * n)
                #else
                    for i in 0..<n {
                        out[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    }
                #endif
            case .f64:
                for i in 0..<n {
                    let bits = UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                    out[i] = Float(Double(bitPattern: bits))
                }
            case .f16:
                for i in 0..<n {
                    out[i] = halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case .bf16:
                for i in 0..<n {
                    let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            case .i64:
                for i in 0..<n {
                    out[i] = Float(Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                }
            case .i32:
                for i in 0..<n {
                    out[i] = Float(Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                }
            }
        }
    }

    // MARK: Header parsing

    /// A JSON object key of any name.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// One header entry exactly as written (validated afterwards).
    private struct RawEntry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    /// The header decoded key by key, so that a malformed entry is reported under its own name.
    private struct RawHeader: Decodable {
        var entries: [(name: String, entry: Result<RawEntry, Error>)] = []
        var metadata: Result<[String: String], Error> = .success([:])

        init(from decoder: Decoder) throws {
            let object = try decoder.container(keyedBy: AnyKey.self)
            for key in object.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = Result { try object.decode([String: String].self, forKey: key) }
                } else {
                    entries.append((key.stringValue, Result { try object.decode(RawEntry.self, forKey: key) }))
                }
            }
        }
    }

    /// Parses and checks the header against a data section of `dataLength` bytes.
    private static func parseHeader(_ header: Data, path: String, dataLength: Int) throws
        -> ([String: SafeTensorsEntry], [String: String])
    {
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: header)
        } catch {
            throw SafeTensorsError.invalidHeader(path: path, reason: describe(error))
        }
        let metadata: [String: String]
        do {
            metadata = try raw.metadata.get()
        } catch {
            throw SafeTensorsError.invalidHeader(
                path: path, reason: "__metadata__ must map strings to strings (\(describe(error)))")
        }

        var entries: [String: SafeTensorsEntry] = [:]
        for (name, result) in raw.entries {
            let r: RawEntry
            do { r = try result.get() } catch {
                throw SafeTensorsError.invalidEntry(path: path, tensor: name, reason: describe(error))
            }
            func bad(_ reason: String) -> SafeTensorsError { .invalidEntry(path: path, tensor: name, reason: reason) }
            guard let dtype = SafeTensorsDType(rawValue: r.dtype) else {
                let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
                throw bad("unsupported dtype \"\(r.dtype)\" (expected one of \(known))")
            }
            guard r.shape.allSatisfy({ $0 >= 0 }) else { throw bad("negative dimension in shape \(r.shape)") }
            guard r.data_offsets.count == 2 else {
                throw bad("data_offsets \(r.data_offsets) must be two numbers [begin, end]")
            }
            let begin = r.data_offsets[0], end = r.data_offsets[1]
            guard begin >= 0, end >= begin else {
                throw bad("data_offsets [\(begin), \(end)] must satisfy 0 <= begin <= end")
            }
            var bytes = dtype.byteSize
            for d in r.shape {
                let (p, overflow) = bytes.multipliedReportingOverflow(by: d)
                guard !overflow else { throw bad("shape \(r.shape) is too large") }
                bytes = p
            }
            guard end - begin == bytes else {
                throw bad("data_offsets [\(begin), \(end)] span \(end - begin) bytes but \(dtype) \(r.shape) needs \(bytes)")
            }
            entries[name] = SafeTensorsEntry(name: name, dtype: dtype, shape: r.shape, range: begin..<end)
        }

        // The data section must be tiled exactly: sorted by offset, each tensor starts where the
        // previous one ends, and the last one ends at the end of the file.
        let ordered = entries.values.sorted {
            ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name)
        }
        if let beyond = ordered.first(where: { $0.range.upperBound > dataLength }) {
            throw SafeTensorsError.truncated(
                path: path, tensor: beyond.name, neededBytes: beyond.range.upperBound, availableBytes: dataLength)
        }
        var cursor = 0
        var previous: String?
        for e in ordered {
            if e.range.lowerBound < cursor {
                throw SafeTensorsError.invalidEntry(
                    path: path, tensor: e.name,
                    reason: "data_offsets [\(e.range.lowerBound), \(e.range.upperBound)] overlap tensor '\(previous ?? "")' "
                        + "(which ends at \(cursor))")
            }
            if e.range.lowerBound > cursor {
                throw SafeTensorsError.invalidEntry(
                    path: path, tensor: e.name,
                    reason: "data_offsets [\(e.range.lowerBound), \(e.range.upperBound)] leave bytes \(cursor)..<"
                        + "\(e.range.lowerBound) that belong to no tensor")
            }
            cursor = e.range.upperBound
            previous = e.name
        }
        if cursor < dataLength { throw SafeTensorsError.trailingBytes(path: path, count: dataLength - cursor) }
        return (entries, metadata)
    }

    /// A short description of a decoding or I/O error.
    static func describe(_ error: Error) -> String {
        guard let d = error as? DecodingError else { return reason(error) }
        func at(_ c: DecodingError.Context) -> String {
            let keys = c.codingPath.map(\.stringValue).filter { !$0.isEmpty }
            return keys.isEmpty ? "" : " at \(keys.joined(separator: "."))"
        }
        switch d {
        case let .keyNotFound(key, c): return "missing key \"\(key.stringValue)\"\(at(c))"
        case let .typeMismatch(_, c): return "\(c.debugDescription)\(at(c))"
        case let .valueNotFound(_, c): return "\(c.debugDescription)\(at(c))"
        case let .dataCorrupted(c):
            let underlying = (c.underlyingError as NSError?)?.localizedDescription
            return "\(c.debugDescription)\(at(c))" + (underlying.map { " (\($0))" } ?? "")
        @unknown default: return "\(d)"
        }
    }

    static func reason(_ error: Error) -> String {
        (error as? LocalizedError)?.errorDescription ?? (error as NSError).localizedDescription
    }
}

/// IEEE 754 binary16 -> binary32 (exact: every half value is a float).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign: UInt32 = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x03FF)
    if exponent == 0 {
        // Zero or subnormal: mantissa x 2^-24.
        let magnitude = Float(mantissa) * Float(bitPattern: 0x3380_0000)
        return Float(bitPattern: magnitude.bitPattern | sign)
    }
    if exponent == 0x1F {
        // Infinity or NaN (payload kept).
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

// MARK: - Writing and the state-dict loader

/// Saving and strict loading of a model's named tensors in safetensors files.
public enum SafeTensors {
    /// A tensor to write: its name, values, and stored dtype (`.f32`, or `.i64` for whole numbers).
    public struct Record {
        public var name: String
        public var tensor: Tensor
        public var dtype: SafeTensorsDType
        public init(name: String, tensor: Tensor, dtype: SafeTensorsDType = .f32) {
            self.name = name
            self.tensor = tensor
            self.dtype = dtype
        }
    }

    /// The bytes of a safetensors file holding `records` and `metadata`.
    ///
    /// Header keys are sorted by name; data is laid out I64 first, then F32 (each by name), so
    /// that every tensor is aligned to its element size; the header is padded with spaces to a
    /// multiple of 8 bytes. `path` only names the destination in errors.
    public static func encode(_ records: [Record], metadata: [String: String] = [:], path: String = "<memory>")
        throws -> Data
    {
        let plan = try Plan(records, metadata: metadata, path: path)
        var out = Data(capacity: plan.fileSize)
        plan.emit { out.append(contentsOf: $0) }
        return out
    }

    /// Writes `records` and `metadata` to `url` atomically (see `AtomicFile`), streaming each
    /// tensor's storage to the file without an intermediate copy of the whole file.
    public static func write(_ records: [Record], metadata: [String: String] = [:], to url: URL) throws {
        let plan = try Plan(records, metadata: metadata, path: url.path)
        try AtomicFile.write(to: url) { sink in try plan.emit { try sink.write($0) } }
    }

    /// A checked file layout: the padded header and where each record's bytes go.
    private struct Plan {
        /// Length prefix and padded JSON header.
        var prefix: [UInt8]
        /// Records in data order (I64 first, then F32, each by name).
        var layout: [Record]
        var dataSize: Int
        var fileSize: Int { prefix.count + dataSize }

        init(_ records: [Record], metadata: [String: String], path: String) throws {
            var seen = Set<String>()
            for r in records {
                guard seen.insert(r.name).inserted else { throw SafeTensorsError.duplicateName(path: path, tensor: r.name) }
                guard r.dtype == .f32 || r.dtype == .i64 else {
                    throw SafeTensorsError.unsupportedWriteDType(path: path, tensor: r.name, dtype: r.dtype.rawValue)
                }
                if r.dtype == .i64 {
                    for i in 0..<r.tensor.count {
                        let v = r.tensor.data[i]
                        guard v.isFinite, v.rounded() == v, abs(v) < 9.2e18 else {
                            throw SafeTensorsError.notAnInteger(path: path, tensor: r.name, index: i, value: v)
                        }
                    }
                }
            }
            layout = records.sorted { ($0.dtype.byteSize, $1.name) > ($1.dtype.byteSize, $0.name) }
            var offsets: [String: Range<Int>] = [:]
            dataSize = 0
            for r in layout {
                let n = r.tensor.count * r.dtype.byteSize
                offsets[r.name] = dataSize..<dataSize + n
                dataSize += n
            }

            var json = "{"
            var first = metadata.isEmpty
            if !metadata.isEmpty {
                json += "\"__metadata__\":{"
                json += metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
                    .joined(separator: ",")
                json += "}"
            }
            for r in records.sorted(by: { $0.name < $1.name }) {
                let range = offsets[r.name]!
                if !first { json += "," }
                first = false
                json += "\(jsonString(r.name)):{\"dtype\":\"\(r.dtype.rawValue)\",\"shape\":["
                    + r.tensor.shape.map(String.init).joined(separator: ",")
                    + "],\"data_offsets\":[\(range.lowerBound),\(range.upperBound)]}"
            }
            json += "}"
            var header = Array(json.utf8)
            while (8 + header.count) % 8 != 0 { header.append(0x20) }
            prefix = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header
        }

        /// Hands the file's bytes, in order, to `sink` in chunks: the header, then each tensor's
        /// storage directly (F32 on little-endian hosts) or through a small conversion buffer.
        func emit(_ sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
            try prefix.withUnsafeBytes { try sink($0) }
            let chunk = 8192
            var scratch = [UInt64](repeating: 0, count: chunk)
            for r in layout {
                let src = r.tensor.data
                let n = r.tensor.count
                #if _endian(little)
                    if r.dtype == .f32 {
                        try sink(UnsafeRawBufferPointer(start: src, count: 4 * n))
                        continue
                    }
                #endif
                var start = 0
                while start < n {
                    let m = min(chunk, n - start)
                    try scratch.withUnsafeMutableBytes { raw in
                        for i in 0..<m {
                            if r.dtype == .i64 {
                                raw.storeBytes(of: Int64(src[start + i]).littleEndian, toByteOffset: 8 * i, as: Int64.self)
                            } else {
                                raw.storeBytes(of: src[start + i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                            }
                        }
                        try sink(UnsafeRawBufferPointer(rebasing: raw.prefix(m * r.dtype.byteSize)))
                    }
                    start += m
                }
            }
        }
    }

    /// The records of a model's state: parameters and non-integer buffers as F32, integer buffers
    /// (`num_batches_tracked`) as I64, `extra` tensors as F32, each under its own name.
    public static func records(parameters: [Parameter], buffers: [Buffer], extra: [String: Tensor] = [:]) -> [Record] {
        parameters.map { Record(name: $0.name, tensor: $0.value) }
            + buffers.map { Record(name: $0.name, tensor: $0.value, dtype: $0.isInteger ? .i64 : .f32) }
            + extra.keys.sorted().map { Record(name: $0, tensor: extra[$0]!) }
    }

    /// Saves a model's state to `url` atomically: keys are `Parameter.name` / `Buffer.name`
    /// (torchvision state_dict naming), `Buffer.isInteger` buffers as I64, the rest F32.
    /// Throws if two tensors share a name or an integer buffer holds a non-integer.
    public static func save(
        parameters: [Parameter], buffers: [Buffer], extra: [String: Tensor] = [:],
        metadata: [String: String], to url: URL
    ) throws {
        try write(records(parameters: parameters, buffers: buffers, extra: extra), metadata: metadata, to: url)
    }

    /// Loads a model's state from `url` into the `value` tensors, in place; see
    /// `load(into:buffers:extra:from:prefix:strict:excluding:)` taking a `SafeTensorsFile`.
    public static func load(
        into parameters: [Parameter], buffers: [Buffer], extra: [String: Tensor] = [:], from url: URL,
        prefix: String = "", strict: Bool = true, excluding excludedPrefixes: [String] = []
    ) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        try load(
            into: parameters, buffers: buffers, extra: extra, from: file, prefix: prefix, strict: strict,
            excluding: excludedPrefixes)
    }

    /// Loads a model's state from a parsed file into the `value` tensors, in place, all or nothing.
    ///
    /// Keys: a tensor named `n` is looked up as `n` if `n` already starts with `prefix`, else as
    /// `prefix + n` (so a head whose parameters are named `0.weight` or `head.0.weight` both load
    /// from `head.0.weight` with `prefix: "head."`). Only file tensors whose key starts with
    /// `prefix` and with none of `excludedPrefixes` take part; e.g. evaluation loads the encoder
    /// from a full pretraining file with `excluding: ["head."]`.
    ///
    /// Refused, naming the tensor and the expected vs found value, before anything is copied:
    /// a missing tensor (always), a wrong shape, a wrong dtype (F32 for parameters, non-integer
    /// buffers and `extra`; I64 for integer buffers), and with `strict` a file tensor that the
    /// model does not expect (as PyTorch's `load_state_dict(strict=True)`).
    public static func load(
        into parameters: [Parameter], buffers: [Buffer], extra: [String: Tensor] = [:], from file: SafeTensorsFile,
        prefix: String = "", strict: Bool = true, excluding excludedPrefixes: [String] = []
    ) throws {
        func key(_ name: String) -> String { name.hasPrefix(prefix) ? name : prefix + name }
        var targets: [(key: String, tensor: Tensor, dtype: SafeTensorsDType)] = []
        targets += parameters.map { (key($0.name), $0.value, .f32) }
        targets += buffers.map { (key($0.name), $0.value, $0.isInteger ? .i64 : .f32) }
        targets += extra.keys.sorted().map { (key($0), extra[$0]!, .f32) }

        var wanted = Set<String>()
        for t in targets where !wanted.insert(t.key).inserted {
            throw SafeTensorsError.duplicateName(path: file.path, tensor: t.key)
        }

        let missing = targets.filter { file.entries[$0.key] == nil }
        if !missing.isEmpty {
            throw SafeTensorsError.missingTensors(
                path: file.path, names: missing.map(\.key), expected: missing.map { "\($0.dtype) \($0.tensor.shape)" })
        }
        for t in targets {
            let e = file.entries[t.key]!
            if e.dtype != t.dtype {
                throw SafeTensorsError.dtypeMismatch(
                    path: file.path, tensor: t.key, expected: t.dtype.rawValue, found: e.dtype.rawValue)
            }
            if e.shape != t.tensor.shape {
                throw SafeTensorsError.shapeMismatch(path: file.path, tensor: t.key, expected: t.tensor.shape, found: e.shape)
            }
        }
        if strict {
            let unexpected = file.names.filter { name in
                name.hasPrefix(prefix) && !wanted.contains(name) && !excludedPrefixes.contains { name.hasPrefix($0) }
            }
            if !unexpected.isEmpty { throw SafeTensorsError.unexpectedTensors(path: file.path, names: unexpected) }
        }
        for t in targets { try file.read(t.key, into: t.tensor) }
    }

    /// `s` as a JSON string literal.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
