// The safetensors container: encode / parse round trips, the exact byte layout, dtype
// conversions, and every refusal of a malformed file (each must throw, naming file and tensor).
import Foundation
import TestSupport
import XCTest

@testable import TensorCore

/// Asserts that `body` throws an error whose message contains every string of `parts`; returns it.
@discardableResult
func assertThrowsMessage<T>(
    _ body: @autoclosure () throws -> T, containing parts: [String],
    file: StaticString = #filePath, line: UInt = #line
) -> Error? {
    do {
        _ = try body()
        XCTFail("expected an error mentioning \(parts)", file: file, line: line)
        return nil
    } catch {
        let message = error.localizedDescription
        for part in parts where !message.contains(part) {
            XCTFail("error message \"\(message)\" does not mention \"\(part)\"", file: file, line: line)
        }
        return error
    }
}

/// A safetensors file from a literal header and body (for malformed inputs).
func rawSafeTensors(header: String, body: [UInt8], declaredLength: UInt64? = nil) -> Data {
    let h = Array(header.utf8)
    var out = Data()
    withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: h)
    out.append(contentsOf: body)
    return out
}

final class SafeTensorsFormatTests: XCTestCase {
    /// Two F32 tensors and one I64, with metadata.
    func makeRecords() -> [SafeTensors.Record] {
        var rng = TestRNG(seed: 7)
        return [
            SafeTensors.Record(name: "layer1.0.conv1.weight", tensor: rng.tensor([4, 3, 3, 3])),
            SafeTensors.Record(name: "bn1.num_batches_tracked", tensor: Tensor(shape: [], values: [391]), dtype: .i64),
            SafeTensors.Record(name: "bn1.bias", tensor: rng.tensor([5])),
            SafeTensors.Record(name: "empty", tensor: Tensor(shape: [0, 3])),
        ]
    }

    func testRoundTripInMemoryKeepsValuesDtypesAndMetadata() throws {
        let records = makeRecords()
        let metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t é"]
        let bytes = try SafeTensors.encode(records, metadata: metadata)
        let file = try SafeTensorsFile(bytes: bytes, path: "mem.safetensors")
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(file.names, ["bn1.bias", "bn1.num_batches_tracked", "empty", "layer1.0.conv1.weight"])
        for r in records {
            let e = try file.entry(r.name)
            XCTAssertEqual(e.dtype, r.dtype, r.name)
            XCTAssertEqual(e.shape, r.tensor.shape, r.name)
            // Bit-exact: the format stores raw values.
            XCTAssertEqual(try file.tensor(named: r.name).array, r.tensor.array, r.name)
        }
        XCTAssertEqual(try file.integers(named: "bn1.num_batches_tracked"), [391])
    }

    func testLayoutHeaderPaddedAndSortedDataAligned() throws {
        let bytes = try SafeTensors.encode(makeRecords(), metadata: ["k": "v"])
        let n = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        XCTAssertEqual((8 + n) % 8, 0, "data section must start 8-byte aligned")
        let header = String(decoding: bytes[8..<8 + n], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{\"k\":\"v\"},\"bn1.bias\":"), header)
        XCTAssertTrue(header.trimmingCharacters(in: .whitespaces).hasSuffix("}"), header)
        // Padded with spaces only, after the closing brace.
        let padding = header.reversed().prefix { $0 == " " }.count
        XCTAssertLessThan(padding, 8, "at most 7 padding bytes")
        XCTAssertEqual(header.dropLast(padding).last, "}", header)
        // I64 is laid out first (offset 0, 8 bytes), then F32 tensors by name; keys are sorted.
        XCTAssertTrue(
            header.contains("\"bn1.num_batches_tracked\":{\"data_offsets\":[0,8],\"dtype\":\"I64\",\"shape\":[]}"), header)
        XCTAssertTrue(header.contains("\"bn1.bias\":{\"data_offsets\":[8,28],\"dtype\":\"F32\",\"shape\":[5]}"), header)
        XCTAssertEqual(bytes.count, 8 + n + 8 + 20 + 0 + 4 * 108)
        // The I64 value is stored little-endian.
        let v = bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: 8 + n, as: Int64.self)) }
        XCTAssertEqual(v, 391)
    }

    func testStreamedFileEqualsEncodedBytesAcrossConversionChunks() throws {
        // An I64 tensor longer than the writer's 8192-element conversion buffer, and large F32s.
        let counts = Tensor(shape: [20_001])
        let expectedCounts: [Int64] = (0..<20_001).map { (i: Int) -> Int64 in Int64(i % 3 == 0 ? -i : i * 1000) }
        for i in 0..<counts.count { counts[i] = Float(expectedCounts[i]) }
        var rng = TestRNG(seed: 3)
        let records = [
            SafeTensors.Record(name: "counts", tensor: counts, dtype: .i64),
            SafeTensors.Record(name: "w", tensor: rng.tensor([70, 300])),
            SafeTensors.Record(name: "v", tensor: rng.tensor([3])),
        ]
        let dir = try makeTemporaryDirectory("safetensors-stream")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("s.safetensors")
        try SafeTensors.write(records, metadata: ["a": "b"], to: url)
        let encoded = try SafeTensors.encode(records, metadata: ["a": "b"])
        XCTAssertEqual(try Data(contentsOf: url), encoded)
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(try file.integers(named: "counts"), expectedCounts)
        XCTAssertEqual(try file.tensor(named: "w").array, records[1].tensor.array)
    }

    func testHeaderIsJSONWithExactKeysEvenForNamesThatNeedEscaping() throws {
        let names = [
            "quote\"d", "back\\slash", "slash/name", "n\u{E9} \u{65E5}\u{672C} \u{1F642}", "ctl\u{1}\u{1F}\n\r\t\u{7F}",
            "", "__metadata", "Upper.0.weight",
        ]
        let metadata = ["quote\"key": "v \" \\ / \n \u{0} \u{E9}", "empty": "", "\u{8}": "\u{2028}", "format": "pt"]
        var records = names.enumerated().map { i, name in
            SafeTensors.Record(name: name, tensor: Tensor(shape: [i + 1], values: (0...i).map { Float($0) - 0.5 }))
        }
        records.append(.init(name: "count\\\"", tensor: Tensor(shape: [2], values: [3, -4]), dtype: .i64))
        let bytes = try SafeTensors.encode(records, metadata: metadata)
        let n = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }

        // Foundation's own parser reads the header back with exactly the keys written.
        let object = try JSONSerialization.jsonObject(with: bytes[8..<8 + n])
        let json = try XCTUnwrap(object as? [String: Any], "the header must be a JSON object")
        XCTAssertEqual(Set(json.keys), Set(records.map(\.name) + ["__metadata__"]))
        XCTAssertEqual(json["__metadata__"] as? [String: String], metadata)
        for r in records {
            let entry = try XCTUnwrap(json[r.name] as? [String: Any], r.name)
            XCTAssertEqual(Set(entry.keys), ["dtype", "shape", "data_offsets"], r.name)
            XCTAssertEqual(entry["dtype"] as? String, r.dtype.rawValue, r.name)
            XCTAssertEqual(entry["shape"] as? [Int], r.tensor.shape, r.name)
            let offsets = try XCTUnwrap(entry["data_offsets"] as? [Int], r.name)
            XCTAssertEqual(offsets.count, 2, r.name)
            XCTAssertEqual(offsets[1] - offsets[0], r.tensor.count * r.dtype.byteSize, r.name)
        }

        // And the reader agrees, values included.
        let file = try SafeTensorsFile(bytes: bytes, path: "escapes.safetensors")
        XCTAssertEqual(file.names, records.map(\.name).sorted())
        XCTAssertEqual(file.metadata, metadata)
        for r in records { XCTAssertEqual(try file.tensor(named: r.name).array, r.tensor.array, r.name) }
        XCTAssertEqual(try file.integers(named: "count\\\""), [3, -4])
    }

    func testEmptyFileIsBracesPaddedToEightBytes() throws {
        let bytes = try SafeTensors.encode([])
        XCTAssertEqual(Array(bytes), [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        XCTAssertTrue(try SafeTensorsFile(bytes: bytes, path: "e").entries.isEmpty)
    }

    func testHalfPrecisionRoundTripThroughFileAtKnownBitPatterns() throws {
        // IEEE 754 binary16 bit patterns, independent of any conversion code.
        let smallestSubnormal = Float(bitPattern: 0x3380_0000)  // 2^-24
        let cases: [(value: Float, bits: UInt16)] = [
            (1, 0x3C00), (-2.5, 0xC100), (65504, 0x7BFF), (-65504, 0xFBFF), (smallestSubnormal, 0x0001),
            (1023 * smallestSubnormal, 0x03FF), (Float(bitPattern: 0x3880_0000), 0x0400), (-0.0, 0x8000),
            (.infinity, 0x7C00), (-.infinity, 0xFC00), (.nan, 0x7E00),
        ]
        for c in cases where !c.value.isNaN {
            XCTAssertEqual(Float16(c.value).bitPattern, c.bits, "\(c.value)")
        }
        XCTAssertTrue(Float16(Float.nan).isNaN)

        // Float -> F16 bytes (little-endian) in a file -> reader -> Float: every value comes back.
        func littleEndian(_ bits: UInt16) -> [UInt8] { [UInt8(bits & 0xFF), UInt8(bits >> 8)] }
        let body = cases.flatMap { littleEndian(Float16($0.value).bitPattern) }
        let header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[\(cases.count)],\"data_offsets\":[0,\(body.count)]}}"
        let file = try SafeTensorsFile(bytes: rawSafeTensors(header: header, body: body), path: "half.st")
        let read = try file.tensor(named: "h").array
        for (c, r) in zip(cases, read) {
            if c.value.isNaN {
                XCTAssertTrue(r.isNaN, "half bits \(c.bits)")
            } else {
                XCTAssertEqual(r.bitPattern, c.value.bitPattern, "half bits \(c.bits)")
            }
        }
        // Decoding straight from the known patterns gives the same values.
        let fixed = cases.flatMap { littleEndian($0.bits) }
        let known = try SafeTensorsFile(bytes: rawSafeTensors(header: header, body: fixed), path: "half.st")
        XCTAssertEqual(try known.tensor(named: "h").array.map(\.bitPattern), read.map(\.bitPattern))
    }

    func testBFloatWidensByShift() throws {
        XCTAssertEqual(bfloat16ToFloat(0x3F80), 1)
        XCTAssertEqual(bfloat16ToFloat(0xC049), -3.140625)
        XCTAssertEqual(bfloat16ToFloat(0x0001), Float(bitPattern: 0x0001_0000))
        XCTAssertEqual(bfloat16ToFloat(0x8000).bitPattern, (-Float(0)).bitPattern)
        XCTAssertEqual(bfloat16ToFloat(0xFF80), -.infinity)
        XCTAssertTrue(bfloat16ToFloat(0x7FC0).isNaN)

        let header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
            + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]}}"
        let file = try SafeTensorsFile(
            bytes: rawSafeTensors(header: header, body: [0x00, 0x7C, 0x00, 0xBC, 0x80, 0x3F, 0x80, 0xFF]), path: "x")
        XCTAssertEqual(try file.tensor(named: "h").array, [.infinity, -1])
        XCTAssertEqual(try file.tensor(named: "b").array, [1, -.infinity])
    }

    func testReadIntoChecksShapeAndRequestedDtype() throws {
        let file = try SafeTensorsFile(bytes: SafeTensors.encode(makeRecords()), path: "m.safetensors")
        let t = Tensor(shape: [5])
        try file.read("bn1.bias", into: t, requiring: .f32)
        XCTAssertEqual(t.array, makeRecords()[2].tensor.array)
        assertThrowsMessage(try file.read("bn1.bias", into: Tensor(shape: [1, 5])), containing: ["'bn1.bias'", "[1, 5]", "[5]"])
        assertThrowsMessage(
            try file.read("bn1.num_batches_tracked", into: Tensor(shape: []), requiring: .f32),
            containing: ["'bn1.num_batches_tracked'", "I64", "F32"])
        assertThrowsMessage(try file.tensor(named: "nope"), containing: ["m.safetensors", "'nope'"])
    }

    func testEncodeRefusesDuplicatesAndNonIntegers() {
        let t = Tensor(shape: [1])
        assertThrowsMessage(
            try SafeTensors.encode([.init(name: "a", tensor: t), .init(name: "a", tensor: t)], path: "o.safetensors"),
            containing: ["o.safetensors", "'a'"])
        assertThrowsMessage(
            try SafeTensors.encode([.init(name: "n", tensor: Tensor(shape: [2], values: [1, 2.5]), dtype: .i64)]),
            containing: ["'n'", "2.5", "index 1"])
        assertThrowsMessage(
            try SafeTensors.encode([.init(name: "n", tensor: Tensor(shape: [1], values: [.nan]), dtype: .i64)]),
            containing: ["'n'"])
        assertThrowsMessage(try SafeTensors.encode([.init(name: "h", tensor: t, dtype: .f16)]), containing: ["'h'", "F16"])
        assertThrowsMessage(
            try SafeTensors.encode([.init(name: "__metadata__", tensor: t)], path: "m.safetensors"),
            containing: ["m.safetensors", "'__metadata__'", "reserved"])
    }

    // MARK: Refusals of malformed files

    func testRefusesFileShorterThanHeaderLength() {
        assertThrowsMessage(try SafeTensorsFile(bytes: Data([1, 2, 3]), path: "short.st"), containing: ["short.st", "3 bytes"])
    }

    func testRefusesHeaderLengthBeyondFile() {
        let data = rawSafeTensors(header: "{}", body: [], declaredLength: 1000)
        assertThrowsMessage(try SafeTensorsFile(bytes: data, path: "long.st"), containing: ["long.st", "1000", "beyond"])
        let huge = rawSafeTensors(header: "{}", body: [], declaredLength: UInt64.max)
        assertThrowsMessage(try SafeTensorsFile(bytes: huge, path: "huge.st"), containing: ["huge.st", "beyond"])
    }

    func testRefusesGarbageJSON() {
        for header in ["{\"a\": {\"dtype\": ", "not json at all", "[1, 2]", "\u{FF}\u{FE}"] {
            assertThrowsMessage(
                try SafeTensorsFile(bytes: rawSafeTensors(header: header, body: []), path: "garbage.st"),
                containing: ["garbage.st", "JSON"])
        }
        assertThrowsMessage(
            try SafeTensorsFile(bytes: rawSafeTensors(header: "{\"__metadata__\": {\"k\": 1}}", body: []), path: "meta.st"),
            containing: ["meta.st", "__metadata__"])
    }

    func testRefusesMalformedEntriesNamingTheTensor() {
        let cases: [(String, [String])] = [
            ("{\"w\": {\"dtype\": \"Q8\", \"shape\": [1], \"data_offsets\": [0, 4]}}", ["'w'", "Q8"]),
            ("{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", ["'w'", "shape"]),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", ["'w'"]),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", ["'w'", "negative"]),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4]}}", ["'w'", "data_offsets"]),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}", ["'w'", "begin <= end"]),
            // Offsets that do not match shape x dtype size.
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", ["'w'", "needs 8"]),
            ("{\"w\": {\"dtype\": \"F64\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 4]}}", ["'w'", "too large"]),
        ]
        for (header, parts) in cases {
            assertThrowsMessage(
                try SafeTensorsFile(bytes: rawSafeTensors(header: header, body: [0, 0, 0, 0]), path: "bad.st"),
                containing: ["bad.st"] + parts)
        }
    }

    func testRefusesOverlapGapAndTrailingBytes() {
        let overlap = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
            + " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}"
        assertThrowsMessage(
            try SafeTensorsFile(bytes: rawSafeTensors(header: overlap, body: Array(repeating: 0, count: 8)), path: "o.st"),
            containing: ["o.st", "'b'", "overlap", "'a'"])
        let gap = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}"
        assertThrowsMessage(
            try SafeTensorsFile(bytes: rawSafeTensors(header: gap, body: Array(repeating: 0, count: 8)), path: "g.st"),
            containing: ["g.st", "'a'", "no tensor"])
        let one = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}"
        assertThrowsMessage(
            try SafeTensorsFile(bytes: rawSafeTensors(header: one, body: Array(repeating: 0, count: 6)), path: "t.st"),
            containing: ["t.st", "2 bytes"])
        // A name given twice: whichever occurrence counts, the other one's bytes belong to no tensor.
        let twice = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
            + " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}"
        assertThrowsMessage(
            try SafeTensorsFile(bytes: rawSafeTensors(header: twice, body: Array(repeating: 0, count: 8)), path: "d.st"),
            containing: ["d.st", "bytes"])
    }

    func testRefusesTruncatedBodyNamingTheTensor() throws {
        let bytes = try SafeTensors.encode(makeRecords())
        // Cut into the last tensor's bytes (layer1.0.conv1.weight is laid out last).
        for cut in [1, 4, 100] {
            assertThrowsMessage(
                try SafeTensorsFile(bytes: bytes.prefix(bytes.count - cut), path: "cut.safetensors"),
                containing: ["cut.safetensors", "truncated", "'layer1.0.conv1.weight'"])
        }
        // Cut before the data section: the header length now points beyond the file.
        assertThrowsMessage(try SafeTensorsFile(bytes: bytes.prefix(20), path: "cut.safetensors"), containing: ["beyond"])
    }

    func testUnorderedOffsetsAndEmptyFileAreAccepted() throws {
        // The reference reader accepts any key order; offsets only need to tile the data section.
        let header = "{\"a\": {\"dtype\": \"I32\", \"shape\": [1], \"data_offsets\": [4, 8]},"
            + " \"b\": {\"dtype\": \"I32\", \"shape\": [1], \"data_offsets\": [0, 4]}}  "
        let file = try SafeTensorsFile(bytes: rawSafeTensors(header: header, body: [1, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF]), path: "u")
        XCTAssertEqual(try file.integers(named: "a"), [-2])
        XCTAssertEqual(try file.tensor(named: "b").array, [1])
        let empty = try SafeTensorsFile(bytes: rawSafeTensors(header: "{}", body: []), path: "e")
        XCTAssertTrue(empty.entries.isEmpty)
        XCTAssertTrue(empty.metadata.isEmpty)
    }
}
