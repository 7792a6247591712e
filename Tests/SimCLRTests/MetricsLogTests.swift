// metrics.jsonl: stable keys, one flushed line per record, resume (torn line, later steps), reader.
import Foundation
import SimCLR
import TestSupport
import XCTest

final class MetricsLogTests: XCTestCase {
    func record(_ step: Int, epoch: Int = 1, kind: MetricsRecord.Kind = .step, knn: Double? = nil) -> MetricsRecord {
        MetricsRecord(kind: kind, step: step, epoch: epoch, loss: 6 - Double(step) / 100, top1: 0.25, top5: 0.5,
                      lr: 0.12, imagesPerSecond: 512.5, wallTime: 1_700_000_000.25, elapsed: Double(step),
                      knnTop1: knn, knnTop5: knn.map { $0 + 30 }, dataWaitSeconds: 0.5, dataWaitShare: 0.01)
    }

    func testLineFormatHasStableKeys() throws {
        let line = record(50).jsonLine
        XCTAssertEqual(line, "{\"kind\": \"step\", \"step\": 50, \"epoch\": 1, \"loss\": 5.5, \"top1\": 0.25, "
                       + "\"top5\": 0.5, \"lr\": 0.12, \"images_per_s\": 512.5, \"wall_time\": 1700000000.25, "
                       + "\"elapsed_s\": 50.0, \"knn_top1\": null, \"knn_top5\": null, \"data_wait_s\": 0.5, "
                       + "\"data_wait_share\": 0.01}")
        var r = record(3, kind: .epoch, knn: 46.5)
        r.loss = .nan
        let obj = try JSONSerialization.jsonObject(with: Data(r.jsonLine.utf8)) as! [String: Any]
        XCTAssertEqual(Set(obj.keys), Set(MetricsRecord.keys))
        XCTAssertTrue(obj["loss"] is NSNull, "NaN is written as null (JSON has no NaN)")
        XCTAssertEqual(obj["knn_top1"] as? Double, 46.5)
    }

    func testAppendReadAndResume() throws {
        let dir = try makeTemporaryDirectory("metrics")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("metrics.jsonl")
        let w = try MetricsLogWriter(url: url)
        let first = [record(50), record(100), record(156, kind: .epoch, knn: 40)]
        for r in first {
            try w.append(r)
            // Flushed per line: the file holds every record written so far.
            XCTAssertEqual(try MetricsLog.read(url).last, r)
        }
        w.close()
        XCTAssertEqual(try MetricsLog.read(url), first)

        // A crash mid-line leaves a torn last line: the reader skips it, a resume removes it.
        let h = try FileHandle(forWritingTo: url)
        try h.seekToEnd()
        try h.write(contentsOf: Data("{\"kind\": \"step\", \"st".utf8))
        try h.close()
        XCTAssertEqual(try MetricsLog.read(url), first)
        let resumed = try MetricsLogWriter(url: url, resume: true)
        try resumed.append(record(200, epoch: 2))
        resumed.close()
        XCTAssertEqual(try MetricsLog.read(url), first + [record(200, epoch: 2)])

        // Resuming from the checkpoint at step 156 drops the later line.
        let again = try MetricsLogWriter(url: url, resume: true, keepingStepsThrough: 156)
        try again.append(record(206, epoch: 2))
        again.close()
        XCTAssertEqual(try MetricsLog.read(url).map(\.step), [50, 100, 156, 206])

        // Without resume, a new log replaces the old one.
        let fresh = try MetricsLogWriter(url: url)
        fresh.close()
        XCTAssertEqual(try MetricsLog.read(url), [])
    }

    func testMalformedLineNamesFileAndLine() throws {
        let dir = try makeTemporaryDirectory("metrics")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("metrics.jsonl")
        try Data((record(1).jsonLine + "\nnot json\n" + record(2).jsonLine + "\n").utf8).write(to: url)
        XCTAssertThrowsError(try MetricsLog.read(url)) { error in
            XCTAssertTrue(error.localizedDescription.contains("\(url.path):2:"), error.localizedDescription)
        }
        try Data("{\"kind\": \"step\", \"epoch\": 1}\n".utf8).write(to: url)
        XCTAssertThrowsError(try MetricsLog.read(url)) { error in
            XCTAssertTrue(error.localizedDescription.contains("\(url.path):1:"), error.localizedDescription)
        }
        // Found by ReaderFuzzTests: a step beyond Int's range trapped; fractions and negatives are refused too.
        for step in ["99999999999999999999999", "2.5", "-3"] {
            try Data("{\"kind\": \"step\", \"step\": \(step), \"epoch\": 1}\n".utf8).write(to: url)
            XCTAssertThrowsError(try MetricsLog.read(url)) { error in
                let m = error.localizedDescription
                XCTAssertTrue(m.contains("\(url.path):1:") && m.contains("whole numbers"), m)
            }
        }
    }
}
