import TensorCore
import Foundation
import XCTest

/// A settable clock and a recording sink for ProgressBar.
final class FakeTerminal: @unchecked Sendable {
    private let lock = NSLock()
    private var _now: Double = 100
    private var _writes: [String] = []
    var now: Double {
        get { lock.lock(); defer { lock.unlock() }; return _now }
        set { lock.lock(); _now = newValue; lock.unlock() }
    }
    var writes: [String] { lock.lock(); defer { lock.unlock() }; return _writes }
    func write(_ s: String) { lock.lock(); _writes.append(s); lock.unlock() }
}

final class ProgressBarTests: XCTestCase {
    func testFormatShowsPercentBarRateETAAndFields() {
        let line = ProgressBar.format(label: "epoch 1", current: 250, total: 1000, unit: "img", elapsed: 5,
                                      fields: [("loss", "1.234"), ("lr", "0.3")], bar: true, barWidth: 10)
        // 25% done in 5 s: 50 img/s, 750 left -> 15 s.
        XCTAssertEqual(line, "epoch 1   25%  [##........]  250/1000 img  50.0 img/s  ETA 0:15  elapsed 0:05  loss=1.234  lr=0.3")
        let noTotal = ProgressBar.format(label: "x", current: 12_345, total: nil, unit: "img", elapsed: 0, fields: [], bar: true)
        XCTAssertEqual(noTotal, "x  12.3k img  elapsed 0:00")
        let bytes = ProgressBar.format(label: "dl", current: 3 << 20, total: 12 << 20, unit: "B", elapsed: 2, fields: [], bar: false)
        XCTAssertEqual(bytes, "dl   25%  3.0 MB/12.0 MB B  1.5 MB/s  ETA 0:06  elapsed 0:02")
        XCTAssertEqual(ProgressBar.bytes(1536), "1.5 KB")
        XCTAssertEqual(ProgressBar.duration(3725), "1:02:05")
    }

    func testTerminalRedrawsInPlaceAtMostEveryInterval() {
        let term = FakeTerminal()
        let bar = ProgressBar(label: "t", total: 100, unit: "it", isTTY: true, minInterval: 0.1,
                              clock: { term.now }, write: { term.write($0) })
        for i in 1...50 { bar.update(i) }  // same instant: one draw
        XCTAssertEqual(term.writes.count, 1)
        term.now += 0.05
        bar.update(60)
        XCTAssertEqual(term.writes.count, 1)
        term.now += 0.06
        bar.update(70, fields: [("loss", "0.5")])
        XCTAssertEqual(term.writes.count, 2)
        XCTAssertTrue(term.writes[1].hasPrefix("\r"))
        XCTAssertTrue(term.writes[1].contains("70/100") && term.writes[1].contains("loss=0.5"), term.writes[1])
        XCTAssertFalse(term.writes[1].contains("\n"))
        bar.update(100)  // completion is always drawn
        XCTAssertEqual(term.writes.count, 3)
        bar.finish()
        XCTAssertEqual(term.writes.last, "\n")
        let count = term.writes.count
        bar.update(5)
        XCTAssertEqual(term.writes.count, count, "updates after finish are ignored")
    }

    func testPipeGetsOccasionalPlainLines() {
        let term = FakeTerminal()
        let bar = ProgressBar(label: "p", total: 1000, unit: "batch", isTTY: false, plainInterval: 10,
                              clock: { term.now }, write: { term.write($0) })
        for i in 1...1000 {
            term.now += 0.05  // 50 s in all: about one line per 10 s
            bar.update(i)
        }
        bar.finish()
        let lines = term.writes
        XCTAssertTrue((5...7).contains(lines.count), "\(lines.count) lines")
        for l in lines {
            XCTAssertFalse(l.contains("\r"))
            XCTAssertFalse(l.contains("["), "no bar drawing in plain lines: \(l)")
            XCTAssertTrue(l.hasSuffix("\n"))
        }
        XCTAssertTrue(lines.last!.contains("1000/1000 batch") && lines.last!.contains("100%"), lines.last!)
    }

    func testAdvanceIsThreadSafe() {
        let term = FakeTerminal()
        let bar = ProgressBar(label: "c", total: 4000, isTTY: false, clock: { term.now }, write: { term.write($0) })
        DispatchQueue.concurrentPerform(iterations: 4000) { _ in bar.advance() }
        XCTAssertTrue(bar.line.contains("4000/4000"), bar.line)
    }
}
