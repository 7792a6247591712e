// AugmentBenchmark (`simclr bench augment`): a small run checks the result's bookkeeping and
// that read errors are thrown. Set SIMCLR_AUG_BENCH=1 to also print the full measurement
// (2,048 images, 5 repeats, 32 and 96 px, 1 and 2 threads) to compare with torch_simclr_aug.py.
import Data
import Foundation
@testable import SimCLRCLI
import TestSupport
import XCTest

/// Random images held in memory (so a pass times the augmentations only); fails on `failing`.
private struct StoredImages: ImageDataset {
    struct ReadError: Error { let index: Int }
    let name = "stored"
    let images: [RGBImage]
    let failing: Set<Int>
    var classNames: [String] { [] }
    var count: Int { images.count }

    init(count: Int, side: Int = 32, seed: UInt64, failing: Set<Int> = []) {
        var rng = TestRNG(seed: seed)
        images = (0..<count).map { _ in
            RGBImage(width: side, height: side, pixels: (0..<side * side * 3).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 56) })
        }
        self.failing = failing
    }

    func image(at index: Int) throws -> RGBImage {
        if failing.contains(index) { throw ReadError(index: index) }
        return images[index]
    }

    func label(at index: Int) -> Int? { nil }
}

final class AugmentBenchmarkTests: XCTestCase {
    func testSmallRunReportsConsistentRates() throws {
        let data = StoredImages(count: 64, seed: 12)
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
        let data = StoredImages(count: 8, seed: 1, failing: [5])
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
            let data = StoredImages(count: 2048, side: size, seed: 0)
            for threads in [1, 2] {
                let r = try AugmentBenchmark.run(dataset: data, size: size, threads: threads, images: 2048, repeats: 5,
                                                 config: config)
                print("AUGBENCH blur=\(config.blur)", String(decoding: try encoder.encode(r), as: UTF8.self))
            }
        }
    }
}
