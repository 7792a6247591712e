// TensorBoard files of a resumed run: the events past the checkpoint's step and a torn last
// record are dropped, the newest file is continued, and a fresh start removes old files, so
// every tag has each step once.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class TFEventsResumeTests: XCTestCase {
    private func steps(_ url: URL, _ tag: String = "loss") throws -> [Int64] {
        try TFEventsReader.scalars(at: url)[tag]?.map(\.step) ?? []
    }

    func testResumeDropsLaterStepsAndATornRecordThenContinuesTheSameFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try TFEventsWriter(directory: dir)
        for s in 1...10 { try first.addScalar("loss", Double(s), step: s) }
        try first.close()
        // A crash in mid-write: half of one more record at the end.
        var torn: [UInt8] = []
        TFRecord.append(TFEvent(wallTime: 1, step: 11, scalars: [TFScalar(tag: "loss", value: 11)]).serialized(), to: &torn)
        let h = try FileHandle(forWritingTo: first.url)
        try h.seekToEnd()
        try h.write(contentsOf: Data(torn.prefix(torn.count / 2)))
        try h.close()
        XCTAssertThrowsError(try TFEventsReader.events(at: first.url), "the torn file does not read as a whole")

        let resumed = try TFEventsWriter.forRun(directory: dir, keepingStepsThrough: 6)
        XCTAssertEqual(resumed.url, first.url, "the newest file is continued, no second file")
        for s in 7...12 { try resumed.addScalar("loss", Double(s), step: s) }
        try resumed.close()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.count, 1)
        XCTAssertEqual(try steps(first.url), Array(1...12).map(Int64.init))
        let events = try TFEventsReader.events(at: first.url)
        XCTAssertEqual(events.first?.fileVersion, "brain.Event:2", "the file-version event is kept")
        XCTAssertEqual(try TFEventsReader.scalars(at: first.url)["loss"]?.map(\.value), (1...12).map(Float.init))
    }

    func testEveryOldFileIsTruncatedAndAFreshStartRemovesThem() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Two files, as earlier versions left after a resume (the second with a later name).
        let a = try TFEventsWriter(directory: dir, wallTime: 1_000)
        for s in 1...8 { try a.addScalar("loss", Double(s), step: s) }
        try a.close()
        let b = try TFEventsWriter(directory: dir, wallTime: 2_000)
        for s in 5...9 { try b.addScalar("loss", Double(s), step: s) }
        try b.close()
        XCTAssertEqual(TFEventsWriter.eventFiles(in: dir).map(\.lastPathComponent), [a.url, b.url].map(\.lastPathComponent))
        let untouched = try Data(contentsOf: a.url)
        try TFEventsWriter.truncate(a.url, keepingStepsThrough: 8)
        XCTAssertEqual(try Data(contentsOf: a.url), untouched, "nothing to drop: the file is left as it is")

        let resumed = try TFEventsWriter.forRun(directory: dir, keepingStepsThrough: 4)
        try resumed.close()
        XCTAssertEqual(resumed.url, b.url)
        XCTAssertEqual(try steps(a.url), [1, 2, 3, 4])
        XCTAssertEqual(try steps(b.url), [])

        let fresh = try TFEventsWriter.forRun(directory: dir, keepingStepsThrough: nil)
        try fresh.close()
        XCTAssertEqual(TFEventsWriter.eventFiles(in: dir), [fresh.url])
        XCTAssertEqual(try steps(fresh.url), [])
    }

    func testScanKeepsTheRecordsBeforeDamage() throws {
        var bytes: [UInt8] = []
        for s in 1...3 { TFRecord.append(TFEvent(wallTime: 0, step: Int64(s)).serialized(), to: &bytes) }
        let whole = TFRecord.scan(bytes)
        XCTAssertNil(whole.error)
        XCTAssertEqual(whole.records.count, 3)
        bytes[bytes.count - 2] ^= 0xFF  // the last record's data CRC
        let damaged = TFRecord.scan(bytes, path: "x.tfevents")
        XCTAssertEqual(damaged.records.count, 2)
        XCTAssertTrue(damaged.error?.localizedDescription.contains("x.tfevents") ?? false)
        XCTAssertThrowsError(try TFRecord.records(bytes))
    }
}
