// TensorBoard event files: CRC32C check values, masking, protobuf bytes, round trip, corruption.
import Foundation
import SimCLR
import TestSupport
import XCTest

final class TFEventsTests: XCTestCase {
    func testCRC32CCheckValues() {
        // The CRC catalogue's check value and RFC 3720 (iSCSI) B.4 test vectors.
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }), 0x113F_DB5C)
    }

    func testCRC32CSlicingMatchesBitwiseAndIsIncremental() {
        var rng = TestRNG(seed: 7)
        let bytes = (0..<1000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        func bitwise(_ b: [UInt8]) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for x in b {
                c ^= UInt32(x)
                for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            }
            return ~c
        }
        for n in [0, 1, 7, 8, 9, 15, 16, 17, 63, 1000] {
            XCTAssertEqual(CRC32C.checksum(bytes[0..<n]), bitwise(Array(bytes[0..<n])), "length \(n)")
        }
        let split = bytes[0..<333].withUnsafeBytes { a in
            bytes[333...].withUnsafeBytes { b in CRC32C.update(CRC32C.update(0, a), b) }
        }
        XCTAssertEqual(split, CRC32C.checksum(bytes))
    }

    func testMaskFormulaAndInverse() {
        let crc: UInt32 = 0xE306_9283
        XCTAssertEqual(CRC32C.mask(crc), ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
        for v: UInt32 in [0, 1, 0xFFFF_FFFF, 0x1234_5678, crc] { XCTAssertEqual(CRC32C.unmask(CRC32C.mask(v)), v) }
    }

    func testEventProtobufBytes() {
        // Event{wall_time=1.5, step=300, summary{value{tag="a", simple_value=2.0}}} by hand:
        // 09 <1.5 as LE double> 10 ac 02 2a 0b 0a 09 0a 01 61 15 <2.0f LE>
        let e = TFEvent(wallTime: 1.5, step: 300, scalars: [TFScalar(tag: "a", value: 2)])
        let expected: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0x10, 0xAC, 0x02, 0x2A, 0x0A, 0x0A, 0x08,
                                 0x0A, 0x01, 0x61, 0x15, 0, 0, 0, 0x40]
        XCTAssertEqual(e.serialized(), expected)
        XCTAssertEqual(try TFEvent(serialized: expected), e)
        let version = TFEvent(wallTime: 0, step: 0, fileVersion: "brain.Event:2")
        XCTAssertEqual(Array(version.serialized()[9...]), [0x1A, 13] + Array("brain.Event:2".utf8))
    }

    func testMatchesTensorBoardsOwnWriter() throws {
        // An event file written by the tensorboard package (tools/make_eval_fixtures.py).
        let fx = try Fixtures.json("tfevents_python")
        let bytes = (fx["bytes"] as! [Int]).map { UInt8($0) }
        let eventBytes = (fx["event_bytes"] as! [[Int]]).map { $0.map { UInt8($0) } }
        let scalars = fx["scalars"] as! [[Any]]
        let records = try TFRecord.records(bytes, path: "tfevents_python")
        XCTAssertEqual(records.count, 1 + scalars.count)
        let events = try records.map { try TFEvent(serialized: $0.data) }
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        for (i, sc) in scalars.enumerated() {
            let e = events[i + 1]
            XCTAssertEqual(e.scalars, [TFScalar(tag: sc[0] as! String, value: Float(sc[2] as! Double))])
            XCTAssertEqual(e.step, Int64(sc[1] as! Int))
            XCTAssertEqual(e.wallTime, 1_700_000_000.5 + Double(i))
            // Our encoding of the same event is byte-identical to protobuf's.
            XCTAssertEqual(e.serialized(), eventBytes[i])
        }
        // Re-framing the decoded scalar events reproduces the file's bytes, CRCs included. (The
        // file-version event also carries source_metadata, field 10, which we skip and do not write.)
        var rebuilt: [UInt8] = []
        for e in events.dropFirst() { TFRecord.append(e.serialized(), to: &rebuilt) }
        XCTAssertEqual(rebuilt, Array(bytes[records[1].offset...]))
    }

    func testRecordFraming() throws {
        var out: [UInt8] = []
        TFRecord.append([1, 2, 3], to: &out)
        XCTAssertEqual(out.count, 8 + 4 + 3 + 4)
        XCTAssertEqual(Array(out[0..<8]), [3, 0, 0, 0, 0, 0, 0, 0])
        let lengthCRC = UInt32(out[8]) | UInt32(out[9]) << 8 | UInt32(out[10]) << 16 | UInt32(out[11]) << 24
        XCTAssertEqual(lengthCRC, CRC32C.mask(CRC32C.checksum([3, 0, 0, 0, 0, 0, 0, 0])))
        let dataCRC = UInt32(out[15]) | UInt32(out[16]) << 8 | UInt32(out[17]) << 16 | UInt32(out[18]) << 24
        XCTAssertEqual(dataCRC, CRC32C.mask(CRC32C.checksum([1, 2, 3])))
        XCTAssertEqual(try TFRecord.records(out).map(\.data), [[1, 2, 3]])
    }

    func testWriterRoundTrip() throws {
        let dir = try makeTemporaryDirectory("tfevents")
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try TFEventsWriter(directory: dir, hostname: "testhost", wallTime: 1_700_000_000, flushEvery: 3)
        XCTAssertEqual(writer.url.lastPathComponent, "events.out.tfevents.1700000000.testhost")
        for step in 0..<10 {
            try writer.addScalars([("train/loss", 5 - 0.25 * Double(step)), ("train/lr", 0.1 * Double(step))],
                                  step: step * 50, wallTime: 1_700_000_000 + Double(step))
        }
        try writer.close()
        keepForInspection(writer.url)
        let events = try TFEventsReader.events(at: writer.url)
        XCTAssertEqual(events.count, 1 + 20)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[0].wallTime, 1_700_000_000)
        XCTAssertEqual(events[1], TFEvent(wallTime: 1_700_000_000, step: 0, scalars: [TFScalar(tag: "train/loss", value: 5)]))
        let scalars = try TFEventsReader.scalars(at: writer.url)
        XCTAssertEqual(Set(scalars.keys), ["train/loss", "train/lr"])
        XCTAssertEqual(scalars["train/loss"]!.map(\.step), (0..<10).map { Int64($0 * 50) })
        XCTAssertEqual(scalars["train/loss"]!.map(\.value), (0..<10).map { Float(5 - 0.25 * Double($0)) })
        XCTAssertEqual(scalars["train/lr"]!.map(\.value), (0..<10).map { Float(0.1 * Double($0)) })
        // A second writer in the same second gets its own file.
        let again = try TFEventsWriter(directory: dir, hostname: "testhost", wallTime: 1_700_000_000)
        XCTAssertNotEqual(again.url, writer.url)
    }

    func testWriterFlushesPeriodically() throws {
        let dir = try makeTemporaryDirectory("tfevents")
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try TFEventsWriter(directory: dir, hostname: "h", flushInterval: 3600, flushEvery: 4)
        for s in 0..<3 { try writer.addScalar("x", Double(s), step: s) }
        XCTAssertEqual(try TFEventsReader.events(at: writer.url).count, 1, "3 events stay buffered")
        try writer.addScalar("x", 3, step: 3)
        XCTAssertEqual(try TFEventsReader.events(at: writer.url).count, 5, "the 4th event flushes")
        try writer.addScalar("x", 4, step: 4)
        try writer.flush()
        XCTAssertEqual(try TFEventsReader.events(at: writer.url).count, 6)
    }

    func testCorruptionIsDetected() throws {
        let dir = try makeTemporaryDirectory("tfevents")
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try TFEventsWriter(directory: dir, hostname: "h")
        try writer.addScalar("loss", 1.25, step: 7)
        try writer.close()
        let good = try Data(contentsOf: writer.url)
        let firstLength = 12 + Int(good[0]) + 4  // file-version record
        let bad = dir.appendingPathComponent("bad")

        var flippedData = good
        flippedData[firstLength + 12 + 3] ^= 0x01  // a byte of the scalar event's payload
        try flippedData.write(to: bad)
        XCTAssertThrowsError(try TFEventsReader.events(at: bad)) { error in
            guard case let TFEventsError.dataCRCMismatch(path, offset, _, _) = error else {
                return XCTFail("expected a data CRC error, got \(error)")
            }
            XCTAssertEqual(path, bad.path)
            XCTAssertEqual(offset, firstLength)
            XCTAssertTrue(error.localizedDescription.contains("corrupted record data"))
        }

        var flippedLength = good
        flippedLength[firstLength] ^= 0x04
        try flippedLength.write(to: bad)
        XCTAssertThrowsError(try TFEventsReader.events(at: bad)) { error in
            guard case TFEventsError.lengthCRCMismatch = error else { return XCTFail("got \(error)") }
        }

        try good.prefix(good.count - 2).write(to: bad)
        XCTAssertThrowsError(try TFEventsReader.events(at: bad)) { error in
            guard case TFEventsError.truncated = error else { return XCTFail("got \(error)") }
        }
    }
}

/// With SIMCLR_TEST_OUTPUT set to a folder, copies `url` there (to check files by hand with
/// tools/read_tfevents.py or numpy.load); does nothing otherwise.
func keepForInspection(_ url: URL) {
    guard let dir = ProcessInfo.processInfo.environment["SIMCLR_TEST_OUTPUT"] else { return }
    let target = URL(fileURLWithPath: dir).appendingPathComponent(url.lastPathComponent)
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try? FileManager.default.removeItem(at: target)
    try? FileManager.default.copyItem(at: url, to: target)
}
