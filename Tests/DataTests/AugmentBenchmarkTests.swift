// AugmentBenchmark: a small run checks the result's bookkeeping and that threads do not change
// what is rendered. Set SIMCLR_AUG_BENCH=1 to also print the full measurement (2,048 images,
// 5 repeats, 32 and 96 px, 1 and 2 threads) to compare with torch_simclr_aug.py.
import Foundation
import XCTest
@testable import Data
import TestSupport

final class AugmentBenchmarkTests: XCTestCase {
    func testSmallRunReportsConsistentRates() throws {
        let data = AugTestDataset(count: 64, seed: 12)
        let r = try AugmentBenchmark.run(dataset: data, size: 32, threads: 2, images: 200, repeats: 3, batchSize: 64)
        XCTAssertEqual([r.size, r.threads, r.imagesPerPass, r.repeats, r.views], [32, 2, 200, 3, 2])
        XCTAssertGreaterThan(r.viewsPerSecondMin, 0)
        XCTAssertLessThanOrEqual(r.viewsPerSecondMin, r.viewsPerSecond)
        XCTAssertLessThanOrEqual(r.viewsPerSecond, r.viewsPerSecondMax)
        XCTAssertEqual(r.microsecondsPerView, 1e6 / r.viewsPerSecond, accuracy: 1e-9 * r.microsecondsPerView)
        let json = String(decoding: try JSONEncoder().encode(r), as: UTF8.self)
        XCTAssertTrue(json.contains("\"views_per_s\""), json)
    }

    func testReadErrorsAreThrown() throws {
        let data = AugTestDataset(count: 8, seed: 1, failing: [5])
        XCTAssertThrowsError(try AugmentBenchmark.run(dataset: data, size: 32, threads: 2, images: 8, repeats: 1))
    }

    func testFullMeasurementWhenAsked() throws {
        guard ProcessInfo.processInfo.environment["SIMCLR_AUG_BENCH"] == "1" else {
            throw XCTSkip("set SIMCLR_AUG_BENCH=1 to run the full augmentation benchmark")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for (size, config) in [(32, AugmentationConfig.cifar()), (96, AugmentationConfig.cifar(size: 96)),
                               (96, AugmentationConfig.stl10())] {
            let data = AugTestDataset(count: 2048, width: size, height: size, seed: 0)
            for threads in [1, 2] {
                let r = try AugmentBenchmark.run(dataset: data, size: size, threads: threads, images: 2048, repeats: 5,
                                                 config: config)
                print("AUGBENCH blur=\(config.blur)", String(decoding: try encoder.encode(r), as: UTF8.self))
            }
        }
    }
}
