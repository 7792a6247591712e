// The memory estimate against the measured peak: `simclr bench step` (a fresh child process, so
// that the test runner's own memory does not count) prints its estimate beside its peak RSS
// (getrusage); they must agree within 15% at two batch sizes whose plans are most of the peak.
import Foundation
import XCTest

final class MemoryEstimateCommandTests: XCTestCase {
    func testTheEstimateIsWithin15PercentOfTheMeasuredPeakAtTwoSizes() throws {
        for batch in [16, 64] {
            let child = try SimclrProcess.run(["bench", "step", "--width", "0.25", "--batch", "\(batch)", "--steps", "1",
                                               "--warmup", "0", "--threads", "1"])
            XCTAssertEqual(child.process.terminationStatus, 0, child.stderr)
            let line = try XCTUnwrap(child.stdout.split(separator: "\n").last { $0.hasPrefix("{") })
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let peak = try XCTUnwrap(json["peak_rss_mib"] as? Double)
            let estimate = try XCTUnwrap(json["estimated_peak_mib"] as? Double)
            let start = try XCTUnwrap(json["rss_at_start_mib"] as? Double)
            let plan = try XCTUnwrap(json["planned_memory_mib"] as? Double)
            print(String(format: "batch %d: estimated %.1f MiB, measured peak %.1f MiB (%+.1f%%), plan %.1f MiB, at start %.1f MiB",
                         batch, estimate, peak, 100 * (estimate - peak) / peak, plan, start))
            XCTAssertGreaterThan(plan, (peak - start) / 2, "batch \(batch): the plan is most of what the step adds, so the check has teeth")
            XCTAssertLessThanOrEqual(abs(estimate - peak), 0.15 * peak, "batch \(batch): estimate \(estimate) MiB, peak \(peak) MiB")
        }
    }
}
