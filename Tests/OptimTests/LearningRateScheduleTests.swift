// Learning-rate schedule tests: values against tools/make_optim_fixtures.py (whose cosine part is
// cross-checked against torch's CosineAnnealingLR), landmarks, and refused settings.
import Foundation
import Optim
import TestSupport
import XCTest

final class LearningRateScheduleTests: XCTestCase {
    /// Every step of three schedules (plus 3 steps past the end). The schedule is computed in
    /// Double and rounded once to Float: 1e-6 relative, 1e-9 absolute (values near 0).
    func testMatchesReferenceValues() throws {
        let values = try Fixtures.tensors("optim_schedule")
        let meta = try XCTUnwrap(try Fixtures.json("optim_schedule")["meta"] as? [String: Any])
        let configs = try XCTUnwrap(meta["schedules"] as? [String: [String: Any]])
        XCTAssertEqual(configs.count, 3)
        for (name, c) in configs {
            let schedule = try LearningRateSchedule(
                baseLearningRate: Float(try XCTUnwrap(c["base"] as? Double)),
                scaling: try XCTUnwrap(LearningRateSchedule.Scaling(rawValue: c["scaling"] as? String ?? "")),
                batchSize: try XCTUnwrap(c["batch"] as? Int), warmupSteps: try XCTUnwrap(c["warmup"] as? Int),
                totalSteps: try XCTUnwrap(c["total"] as? Int), floor: Float(try XCTUnwrap(c["floor"] as? Double)))
            let expected = try XCTUnwrap(values[name])
            let actual = (0..<expected.count).map { schedule.lr(atStep: $0) }
            assertClose(actual, expected.array, rtol: 1e-6, atol: 1e-9, name)
        }
    }

    func testLandmarks() throws {
        let s = try LearningRateSchedule(
            baseLearningRate: 0.3, scaling: .linear, batchSize: 4096, warmupSteps: 100, totalSteps: 1000)
        XCTAssertEqual(s.peakLearningRate, 4.8, accuracy: 1e-6)  // 0.3 * 4096 / 256
        XCTAssertEqual(s.lr(atStep: 0), 0)
        XCTAssertEqual(s.lr(atStep: 50), 2.4, accuracy: 1e-6)
        XCTAssertEqual(s.lr(atStep: 100), 4.8, accuracy: 1e-6)
        XCTAssertEqual(s.lr(atStep: 550), 2.4, accuracy: 1e-6)  // half-way through the cosine
        XCTAssertEqual(s.lr(atStep: 1000), 0)
        XCTAssertEqual(s.lr(atStep: 5000), 0)
        XCTAssertEqual(s.lr(atStep: -3), 0)
        for t in 100..<999 { XCTAssertGreaterThan(s.lr(atStep: t), s.lr(atStep: t + 1), "step \(t)") }

        let sqrt = try LearningRateSchedule(baseLearningRate: 0.075, scaling: .sqrt, batchSize: 4096, totalSteps: 10)
        XCTAssertEqual(sqrt.peakLearningRate, 4.8, accuracy: 1e-6)  // 0.075 * sqrt(4096)
        XCTAssertEqual(sqrt.lr(atStep: 0), 4.8, accuracy: 1e-6)     // no warmup: starts at the peak

        let allWarmup = try LearningRateSchedule(baseLearningRate: 1, warmupSteps: 4, totalSteps: 4, floor: 0.1)
        XCTAssertEqual((0...5).map { allWarmup.lr(atStep: $0) }, [0, 0.25, 0.5, 0.75, 0.1, 0.1])
    }

    func testRefusesInvalidSettings() {
        func refused(_ name: String, _ make: () throws -> LearningRateSchedule) {
            XCTAssertThrowsError(try make(), name) { error in
                guard case .invalidSetting(let setting, _, _) = error as? OptimizerError else { return XCTFail("\(error)") }
                XCTAssertEqual(setting, name)
                XCTAssertTrue(error.localizedDescription.contains(name), error.localizedDescription)
            }
        }
        refused("learning rate") { try LearningRateSchedule(baseLearningRate: 0, totalSteps: 10) }
        refused("learning rate") { try LearningRateSchedule(baseLearningRate: .infinity, totalSteps: 10) }
        refused("batch size") { try LearningRateSchedule(baseLearningRate: 1, batchSize: 0, totalSteps: 10) }
        refused("total steps") { try LearningRateSchedule(baseLearningRate: 1, totalSteps: 0) }
        refused("warmup steps") { try LearningRateSchedule(baseLearningRate: 1, warmupSteps: 11, totalSteps: 10) }
        refused("warmup steps") { try LearningRateSchedule(baseLearningRate: 1, warmupSteps: -1, totalSteps: 10) }
        refused("learning-rate floor") { try LearningRateSchedule(baseLearningRate: 1, totalSteps: 10, floor: 2) }
        refused("learning-rate floor") { try LearningRateSchedule(baseLearningRate: 1, totalSteps: 10, floor: -0.1) }
    }
}
