// TensorBoard event files, written by hand: no TensorFlow, no protobuf library.
//
// A file `events.out.tfevents.<unix time>.<host>` is a sequence of TFRecords:
//   uint64 length (little-endian) | uint32 masked CRC32C(length bytes) | data | uint32 masked CRC32C(data)
// and each record's data is a serialized `tensorflow.Event` protobuf. The first event carries
// `file_version = "brain.Event:2"`; the following ones carry scalar summaries:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }
// (tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto).
// The writer buffers records and flushes them every `flushInterval` seconds or `flushEvery`
// events; the reader checks both CRCs of every record and decodes the scalars (for tests and tools).

import Foundation

/// A problem reading or writing an event file; messages name the file and what was expected.
public enum TFEventsError: LocalizedError {
    case cannotCreate(String, String)
    case cannotRead(String, String)
    case writeFailed(String, String)
    case truncated(String, offset: Int, needed: Int, available: Int)
    case lengthCRCMismatch(String, offset: Int, stored: UInt32, computed: UInt32)
    case dataCRCMismatch(String, offset: Int, stored: UInt32, computed: UInt32)
    case malformedProtobuf(String, offset: Int, String)

    public var errorDescription: String? {
        switch self {
        case let .cannotCreate(path, why): return "\(path): cannot create the event file (\(why))"
        case let .cannotRead(path, why): return "\(path): cannot read the event file (\(why))"
        case let .writeFailed(path, why): return "\(path): writing events failed (\(why))"
        case let .truncated(path, offset, needed, available):
            return "\(path): truncated record at byte \(offset): \(needed) bytes expected, \(available) left"
        case let .lengthCRCMismatch(path, offset, stored, computed):
            return "\(path): corrupted record length at byte \(offset): masked CRC32C "
                + "0x\(String(stored, radix: 16)) stored, 0x\(String(computed, radix: 16)) computed"
        case let .dataCRCMismatch(path, offset, stored, computed):
            return "\(path): corrupted record data at byte \(offset): masked CRC32C "
                + "0x\(String(stored, radix: 16)) stored, 0x\(String(computed, radix: 16)) computed"
        case let .malformedProtobuf(path, offset, why):
            return "\(path): record at byte \(offset) is not a valid Event protobuf (\(why))"
        }
    }
}

/// One scalar of a summary: `Summary.Value { tag, simple_value }`.
public struct TFScalar: Equatable, Sendable {
    public var tag: String
    public var value: Float
    public init(tag: String, value: Float) {
        self.tag = tag
        self.value = value
    }
}

/// The fields of a `tensorflow.Event` this project writes and reads.
public struct TFEvent: Equatable, Sendable {
    /// Seconds since the Unix epoch.
    public var wallTime: Double
    public var step: Int64
    /// Set on the first event of a file ("brain.Event:2").
    public var fileVersion: String?
    /// Scalar summary values (empty for the file-version event).
    public var scalars: [TFScalar]

    public init(wallTime: Double, step: Int64, fileVersion: String? = nil, scalars: [TFScalar] = []) {
        self.wallTime = wallTime
        self.step = step
        self.fileVersion = fileVersion
        self.scalars = scalars
    }

    /// The protobuf encoding (fields in number order, as protoc writes them).
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32 + scalars.reduce(0) { $0 + $1.tag.utf8.count + 12 })
        Protobuf.appendTag(1, .fixed64, to: &out)
        Protobuf.appendFixed64(wallTime.bitPattern, to: &out)
        if step != 0 {
            Protobuf.appendTag(2, .varint, to: &out)
            Protobuf.appendVarint(UInt64(bitPattern: step), to: &out)
        }
        if let fileVersion {
            Protobuf.appendTag(3, .lengthDelimited, to: &out)
            Protobuf.appendBytes(Array(fileVersion.utf8), to: &out)
        }
        if !scalars.isEmpty {
            var summary: [UInt8] = []
            for s in scalars {
                var value: [UInt8] = []
                Protobuf.appendTag(1, .lengthDelimited, to: &value)
                Protobuf.appendBytes(Array(s.tag.utf8), to: &value)
                Protobuf.appendTag(2, .fixed32, to: &value)
                Protobuf.appendFixed32(s.value.bitPattern, to: &value)
                Protobuf.appendTag(1, .lengthDelimited, to: &summary)
                Protobuf.appendBytes(value, to: &summary)
            }
            Protobuf.appendTag(5, .lengthDelimited, to: &out)
            Protobuf.appendBytes(summary, to: &out)
        }
        return out
    }

    /// Decodes an `Event`; unknown fields are skipped, as protobuf readers do.
    public init(serialized bytes: [UInt8]) throws {
        self.init(wallTime: 0, step: 0)
        var r = Protobuf.Reader(bytes: bytes[...])
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, .fixed64): wallTime = Double(bitPattern: try r.readFixed64())
            case (2, .varint): step = Int64(bitPattern: try r.readVarint())
            case (3, .lengthDelimited): fileVersion = String(decoding: try r.readBytes(), as: UTF8.self)
            case (5, .lengthDelimited):
                var sr = Protobuf.Reader(bytes: try r.readBytes())
                while !sr.isAtEnd {
                    let (sf, sw) = try sr.readTag()
                    guard sf == 1, sw == .lengthDelimited else { try sr.skip(sw); continue }
                    var vr = Protobuf.Reader(bytes: try sr.readBytes())
                    var scalar = TFScalar(tag: "", value: .nan)
                    while !vr.isAtEnd {
                        let (vf, vw) = try vr.readTag()
                        switch (vf, vw) {
                        case (1, .lengthDelimited): scalar.tag = String(decoding: try vr.readBytes(), as: UTF8.self)
                        case (2, .fixed32): scalar.value = Float(bitPattern: try vr.readFixed32())
                        default: try vr.skip(vw)
                        }
                    }
                    scalars.append(scalar)
                }
            default: try r.skip(wire)
            }
        }
    }
}

/// Writes scalar summaries to a TensorBoard event file in `directory`.
///
/// Not thread-safe: call it from the thread that runs the training loop. Records are buffered and
/// written every `flushInterval` seconds or `flushEvery` events, on `flush()` and on `close()`.
public final class TFEventsWriter {
    /// The event file (`events.out.tfevents.<unix seconds>.<host>`).
    public let url: URL
    public let flushInterval: TimeInterval
    public let flushEvery: Int

    private var handle: FileHandle?
    private var pending: [UInt8] = []
    private var pendingEvents = 0
    private var lastFlush = Date()

    /// Creates the directory if needed and a new event file in it, holding the file-version event.
    public init(
        directory: URL, hostname: String = ProcessInfo.processInfo.hostName,
        wallTime: Double = Date().timeIntervalSince1970, flushInterval: TimeInterval = 10, flushEvery: Int = 100
    ) throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TFEventsError.cannotCreate(directory.path, error.localizedDescription)
        }
        let host = hostname.isEmpty ? "localhost" : hostname.replacingOccurrences(of: "/", with: "_")
        var name = "events.out.tfevents.\(Int(wallTime)).\(host)"
        var n = 1
        while fm.fileExists(atPath: directory.appendingPathComponent(name).path) {
            n += 1
            name = "events.out.tfevents.\(Int(wallTime)).\(host).\(n)"
        }
        url = directory.appendingPathComponent(name)
        self.flushInterval = flushInterval
        self.flushEvery = max(1, flushEvery)
        guard fm.createFile(atPath: url.path, contents: nil), let h = FileHandle(forWritingAtPath: url.path) else {
            throw TFEventsError.cannotCreate(url.path, "open failed")
        }
        handle = h
        try write(TFEvent(wallTime: wallTime, step: 0, fileVersion: "brain.Event:2"))
        try flush()
    }

    /// Continues the existing event file `url` (its events are kept; new ones are appended).
    init(appendingTo url: URL, flushInterval: TimeInterval = 10, flushEvery: Int = 100) throws {
        self.url = url
        self.flushInterval = flushInterval
        self.flushEvery = max(1, flushEvery)
        guard let h = FileHandle(forWritingAtPath: url.path) else { throw TFEventsError.cannotCreate(url.path, "open failed") }
        do {
            try h.seekToEnd()
        } catch {
            throw TFEventsError.cannotCreate(url.path, error.localizedDescription)
        }
        handle = h
    }

    deinit { try? close() }

    /// Appends one event (buffered).
    public func write(_ event: TFEvent) throws {
        TFRecord.append(event.serialized(), to: &pending)
        pendingEvents += 1
        if pendingEvents >= flushEvery || Date().timeIntervalSince(lastFlush) >= flushInterval {
            try flush()
        }
    }

    /// Appends one scalar `tag = value` at `step`.
    public func addScalar(
        _ tag: String, _ value: Double, step: Int, wallTime: Double = Date().timeIntervalSince1970
    ) throws {
        try write(TFEvent(wallTime: wallTime, step: Int64(step), scalars: [TFScalar(tag: tag, value: Float(value))]))
    }

    /// Appends several scalars at `step`, one event each (the layout TensorBoard's own writers use).
    public func addScalars(
        _ values: [(tag: String, value: Double)], step: Int, wallTime: Double = Date().timeIntervalSince1970
    ) throws {
        for v in values { try addScalar(v.tag, v.value, step: step, wallTime: wallTime) }
    }

    /// Writes buffered events to the file.
    public func flush() throws {
        guard let handle else { return }
        if !pending.isEmpty {
            if FaultPoint.eventsFlush.isKillDue() {  // a crash in mid-write: half of the records reach the file
                try? handle.write(contentsOf: pending.prefix(pending.count / 2))
                FaultInjection.killProcess()
            }
            do {
                try handle.write(contentsOf: pending)
            } catch {
                throw TFEventsError.writeFailed(url.path, error.localizedDescription)
            }
            pending.removeAll(keepingCapacity: true)
        }
        pendingEvents = 0
        lastFlush = Date()
    }

    /// Flushes and closes the file; later writes are dropped.
    public func close() throws {
        guard let h = handle else { return }
        try flush()
        handle = nil
        try? h.close()
    }
}

/// TFRecord framing: `uint64 length | uint32 masked_crc(length) | data | uint32 masked_crc(data)`.
public enum TFRecord {
    /// Appends one framed record holding `data` to `out`.
    public static func append(_ data: [UInt8], to out: inout [UInt8]) {
        var header = [UInt8](repeating: 0, count: 8)
        let length = UInt64(data.count)
        for i in 0..<8 { header[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i))) }
        out += header
        appendUInt32(header.withUnsafeBytes { CRC32C.maskedChecksum($0) }, to: &out)
        out += data
        appendUInt32(data.withUnsafeBytes { CRC32C.maskedChecksum($0) }, to: &out)
    }

    static func appendUInt32(_ v: UInt32, to out: inout [UInt8]) {
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }

    /// Splits `bytes` into record payloads after checking both CRCs of each; `path` names the
    /// source in errors. Returns (byte offset of the record, payload) pairs.
    public static func records(_ bytes: [UInt8], path: String = "<memory>") throws -> [(offset: Int, data: [UInt8])] {
        let s = scan(bytes, path: path)
        if let error = s.error { throw error }
        return s.records
    }

    /// The records of `bytes` up to the first damaged one, and the error that stopped the scan
    /// (nil when every byte belongs to a valid record). A file cut by a crash mid-write keeps its
    /// complete records this way.
    public static func scan(_ bytes: [UInt8], path: String = "<memory>")
        -> (records: [(offset: Int, data: [UInt8])], error: TFEventsError?)
    {
        var out: [(offset: Int, data: [UInt8])] = []
        do {
            try scan(bytes, path: path) { out.append(($0, $1)) }
            return (out, nil)
        } catch {
            return (out, error as? TFEventsError)
        }
    }

    private static func scan(_ bytes: [UInt8], path: String, _ record: (Int, [UInt8]) -> Void) throws {
        var pos = 0
        func le(_ at: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
            return v
        }
        while pos < bytes.count {
            guard bytes.count - pos >= 12 else {
                throw TFEventsError.truncated(path, offset: pos, needed: 12, available: bytes.count - pos)
            }
            let length = le(pos, 8)
            let storedLengthCRC = UInt32(le(pos + 8, 4))
            let lengthCRC = bytes[pos..<pos + 8].withUnsafeBytes { CRC32C.maskedChecksum($0) }
            guard storedLengthCRC == lengthCRC else {
                throw TFEventsError.lengthCRCMismatch(path, offset: pos, stored: storedLengthCRC, computed: lengthCRC)
            }
            let available = bytes.count - pos - 12
            guard length <= UInt64(available), available - Int(length) >= 4 else {
                throw TFEventsError.truncated(path, offset: pos, needed: Int(clamping: length) + 4, available: available)
            }
            let start = pos + 12, end = start + Int(length)
            let storedDataCRC = UInt32(le(end, 4))
            let dataCRC = bytes[start..<end].withUnsafeBytes { CRC32C.maskedChecksum($0) }
            guard storedDataCRC == dataCRC else {
                throw TFEventsError.dataCRCMismatch(path, offset: pos, stored: storedDataCRC, computed: dataCRC)
            }
            record(pos, Array(bytes[start..<end]))
            pos = end + 4
        }
    }
}

/// Reads event files back (tests, tools): CRC-checked records decoded as `TFEvent`s.
public enum TFEventsReader {
    /// Every event of the file, in order.
    public static func events(at url: URL) throws -> [TFEvent] {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw TFEventsError.cannotRead(url.path, error.localizedDescription)
        }
        return try TFRecord.records(bytes, path: url.path).map { rec in
            do {
                return try TFEvent(serialized: rec.data)
            } catch let Protobuf.DecodeError.malformed(why) {
                throw TFEventsError.malformedProtobuf(url.path, offset: rec.offset, why)
            }
        }
    }

    /// The scalars of the file grouped by tag: tag -> [(step, value)] in file order.
    public static func scalars(at url: URL) throws -> [String: [(step: Int64, value: Float)]] {
        var out: [String: [(step: Int64, value: Float)]] = [:]
        for e in try events(at: url) {
            for s in e.scalars { out[s.tag, default: []].append((e.step, s.value)) }
        }
        return out
    }
}

/// The handful of protobuf wire-format pieces the event files need (developers.google.com/protocol-buffers/docs/encoding).
enum Protobuf {
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    enum DecodeError: Error { case malformed(String) }

    static func appendVarint(_ v: UInt64, to out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func appendTag(_ field: UInt64, _ wire: WireType, to out: inout [UInt8]) {
        appendVarint(field << 3 | wire.rawValue, to: &out)
    }

    static func appendFixed64(_ v: UInt64, to out: inout [UInt8]) {
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    static func appendFixed32(_ v: UInt32, to out: inout [UInt8]) {
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }

    static func appendBytes(_ b: [UInt8], to out: inout [UInt8]) {
        appendVarint(UInt64(b.count), to: &out)
        out += b
    }

    struct Reader {
        var bytes: ArraySlice<UInt8>
        var isAtEnd: Bool { bytes.isEmpty }

        mutating func readVarint() throws -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while let b = bytes.popFirst() {
                guard shift < 64 else { throw DecodeError.malformed("varint longer than 10 bytes") }
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
            throw DecodeError.malformed("truncated varint")
        }

        mutating func readTag() throws -> (UInt64, WireType) {
            let key = try readVarint()
            guard let wire = WireType(rawValue: key & 7) else { throw DecodeError.malformed("wire type \(key & 7)") }
            return (key >> 3, wire)
        }

        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count >= n else { throw DecodeError.malformed("field of \(n) bytes, \(bytes.count) left") }
            let s = bytes.prefix(n)
            bytes = bytes.dropFirst(n)
            return s
        }

        mutating func readFixed64() throws -> UInt64 {
            try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }

        mutating func readFixed32() throws -> UInt32 {
            try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func readBytes() throws -> ArraySlice<UInt8> {
            let n = try readVarint()
            guard n <= UInt64(bytes.count) else { throw DecodeError.malformed("length \(n) beyond the message") }
            return try take(Int(n))
        }

        mutating func skip(_ wire: WireType) throws {
            switch wire {
            case .varint: _ = try readVarint()
            case .fixed64: _ = try take(8)
            case .fixed32: _ = try take(4)
            case .lengthDelimited: _ = try readBytes()
            case .startGroup, .endGroup: throw DecodeError.malformed("groups are not supported")
            }
        }
    }
}
