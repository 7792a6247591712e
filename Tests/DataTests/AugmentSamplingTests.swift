// The random parameters over many draws: crop area / aspect statistics against torchvision's
// RandomResizedCrop.get_params (fixture augment_sampling.json, 200,000 torchvision draws), and the
// rates and ranges of flip, jitter, its factors and order, grayscale, blur and solarize.
// Bounds are 5 standard errors of the estimates, so a correct sampler fails ~1 in 10^6 runs, and
// the draws are seeded, so every run sees the same numbers.
import Foundation
import XCTest
@testable import Data
import TestSupport

final class AugmentSamplingTests: XCTestCase {
    private func assertRate(_ hits: Int, _ n: Int, _ p: Float, _ what: String, file: StaticString = #filePath,
                            line: UInt = #line) {
        let rate = Double(hits) / Double(n)
        let se = max((Double(p) * (1 - Double(p)) / Double(n)).squareRoot(), 1e-12)
        XCTAssertEqual(rate, Double(p), accuracy: 5 * se + 1e-12, "\(what): \(hits) of \(n)", file: file, line: line)
    }

    func testCropStatisticsMatchTorchvision() throws {
        let doc = try Fixtures.json("augment_sampling")
        for case let s as [String: Any] in doc["crop_stats"] as! [Any] {
            let h = s["height"] as! Int, w = s["width"] as! Int
            let torchDraws = Double(s["draws"] as! Int)
            let n = 100_000
            var rng = RandomState(seed: 2024)
            var area: [Double] = [], logRatio: [Double] = []
            var full = 0
            for _ in 0..<n {
                let c = AugmentationPipeline.sampleCrop(width: w, height: h, scale: 0.08...1, ratio: 0.75...(4.0 / 3.0),
                                                        rng: &rng)
                XCTAssertTrue(c.top >= 0 && c.left >= 0 && c.top + c.height <= h && c.left + c.width <= w, "\(c)")
                area.append(Double(c.width * c.height) / Double(w * h))
                logRatio.append(log(Double(c.width) / Double(c.height)))
                if c.width == w && c.height == h { full += 1 }
            }
            func meanStd(_ x: [Double]) -> (Double, Double) {
                let m = x.reduce(0, +) / Double(x.count)
                return (m, (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count)).squareRoot())
            }
            let (am, asd) = meanStd(area), (lm, lsd) = meanStd(logRatio)
            let tam = s["area_mean"] as! Double, tasd = s["area_std"] as! Double
            let tlm = s["log_ratio_mean"] as! Double, tlsd = s["log_ratio_std"] as! Double
            // Standard error of a difference of two independent means; std estimates are far tighter
            // than 5% but crop sizes are rounded to pixels, so compare them at 2%.
            let seArea = (tasd * tasd / torchDraws + asd * asd / Double(n)).squareRoot()
            let seLog = (tlsd * tlsd / torchDraws + lsd * lsd / Double(n)).squareRoot()
            XCTAssertEqual(am, tam, accuracy: 5 * seArea, "area mean \(w)x\(h)")
            XCTAssertEqual(lm, tlm, accuracy: 5 * seLog, "log ratio mean \(w)x\(h)")
            XCTAssertEqual(asd, tasd, accuracy: 0.02 * tasd, "area std \(w)x\(h)")
            XCTAssertEqual(lsd, tlsd, accuracy: 0.02 * tlsd, "log ratio std \(w)x\(h)")
            let tf = s["full_share"] as! Double
            let seFull = max((tf * (1 - tf) / Double(n)).squareRoot(), 1e-5)
            XCTAssertEqual(Double(full) / Double(n), tf, accuracy: 5 * seFull + 1e-4, "full-image share \(w)x\(h)")
        }
    }

    func testFallbackIsTheCentredCropOfTorchvision() {
        // Any draw fails on a 1-pixel-high strip: the fallback is the centred crop of ratio <= 4/3.
        var rng = RandomState(seed: 5)
        let c = AugmentationPipeline.sampleCrop(width: 100, height: 3, scale: 0.08...1, ratio: 0.75...(4.0 / 3.0),
                                                rng: &rng)
        XCTAssertEqual(c, CropBox(top: 0, left: 48, height: 3, width: 4))  // w = round(3 * 4/3) = 4, left = 96 / 2
        let tall = AugmentationPipeline.sampleCrop(width: 3, height: 100, scale: 0.08...1, ratio: 0.75...(4.0 / 3.0),
                                                   rng: &rng)
        XCTAssertEqual(tall, CropBox(top: 48, left: 0, height: 4, width: 3))  // h = round(3 / 0.75) = 4
    }

    func testViewParameterRatesAndRanges() throws {
        var config = AugmentationConfig.cifar()
        config.blur = true
        config.solarize = true
        config.solarizeProbability = 0.3
        let p = try AugmentationPipeline(config)
        var rng = RandomState(seed: 99)
        let n = 40_000
        var flips = 0, jitters = 0, grays = 0, blurs = 0, solarizes = 0
        var position = [[Int]](repeating: [Int](repeating: 0, count: 4), count: 4)  // op -> position counts
        var sums = [Double](repeating: 0, count: 4)
        var lo = [Float](repeating: 9, count: 4), hi = [Float](repeating: -9, count: 4)
        var sigmaSum = 0.0
        for _ in 0..<n {
            let v = p.sampleView(width: 32, height: 32, rng: &rng)
            if v.flip { flips += 1 }
            if v.grayscale { grays += 1 }
            if v.solarize { solarizes += 1 }
            if let s = v.blurSigma {
                blurs += 1
                sigmaSum += Double(s)
                XCTAssertTrue((0.1..<2.0).contains(s))
            }
            if let j = v.jitter {
                jitters += 1
                XCTAssertEqual(Set((0..<4).map { j.order[$0] }), [0, 1, 2, 3])
                for k in 0..<4 { position[Int(j.order[k])][k] += 1 }
                let f = [j.brightness, j.contrast, j.saturation, j.hue]
                for k in 0..<4 {
                    sums[k] += Double(f[k])
                    lo[k] = min(lo[k], f[k])
                    hi[k] = max(hi[k], f[k])
                }
            }
        }
        assertRate(flips, n, 0.5, "flip")
        assertRate(jitters, n, 0.8, "jitter")
        assertRate(grays, n, 0.2, "grayscale")
        assertRate(blurs, n, 0.5, "blur")
        assertRate(solarizes, n, 0.3, "solarize")
        for op in 0..<4 {
            for k in 0..<4 { assertRate(position[op][k], jitters, 0.25, "op \(op) at position \(k)") }
        }
        // s = 0.5: brightness, contrast, saturation ~ U(0.6, 1.4), hue ~ U(-0.1, 0.1).
        let ranges: [(Float, Float)] = [(0.6, 1.4), (0.6, 1.4), (0.6, 1.4), (-0.1, 0.1)]
        for k in 0..<4 {
            let (a, b) = ranges[k]
            XCTAssertGreaterThanOrEqual(lo[k], a)
            XCTAssertLessThan(hi[k], b)
            XCTAssertLessThan(lo[k], a + 0.001)  // the whole range is covered
            XCTAssertGreaterThan(hi[k], b - 0.001)
            let se = Double(b - a) / 12.0.squareRoot() / Double(jitters).squareRoot()
            XCTAssertEqual(sums[k] / Double(jitters), Double(a + b) / 2, accuracy: 5 * se, "factor \(k) mean")
        }
        XCTAssertEqual(sigmaSum / Double(blurs), 1.05, accuracy: 5 * 1.9 / 12.0.squareRoot() / Double(blurs).squareRoot())
    }

    func testViewsDependOnlyOnSeedEpochAndIndex() throws {
        let p = try AugmentationPipeline(.stl10())
        let a = p.sampleViews(width: 96, height: 96, seed: 1, epoch: 2, index: 3)
        XCTAssertEqual(a, p.sampleViews(width: 96, height: 96, seed: 1, epoch: 2, index: 3))
        XCTAssertNotEqual(a, p.sampleViews(width: 96, height: 96, seed: 1, epoch: 3, index: 3))
        XCTAssertNotEqual(a, p.sampleViews(width: 96, height: 96, seed: 1, epoch: 2, index: 4))
        XCTAssertNotEqual(a, p.sampleViews(width: 96, height: 96, seed: 2, epoch: 2, index: 3))
        XCTAssertNotEqual(a[0], a[1])
    }

    func testPresetsAndValidation() throws {
        let cifar = AugmentationConfig.cifar()
        XCTAssertEqual([cifar.size, cifar.views], [32, 2])
        XCTAssertEqual(cifar.jitterStrength, 0.5)
        XCTAssertFalse(cifar.blur)
        XCTAssertEqual(cifar.mean, [0.4914, 0.4822, 0.4465])
        XCTAssertEqual(cifar.std, [0.2470, 0.2435, 0.2616])
        XCTAssertEqual(cifar.blurKernelSize, 3)
        for preset in [AugmentationConfig.stl10(), .folders()] {
            XCTAssertEqual(preset.jitterStrength, 1.0)
            XCTAssertTrue(preset.blur)
            XCTAssertEqual(preset.blurProbability, 0.5)
            XCTAssertEqual(preset.mean, AugmentationConfig.imageNetMean)
            XCTAssertFalse(preset.solarize)
        }
        XCTAssertEqual(AugmentationConfig.stl10().size, 96)
        XCTAssertEqual(AugmentationConfig.stl10().blurKernelSize, 9)
        XCTAssertEqual(AugmentationConfig.folders().blurKernelSize, 23)
        var bad = cifar
        bad.grayscaleProbability = 1.5
        XCTAssertThrowsError(try AugmentationPipeline(bad)) { error in
            XCTAssertEqual(error.localizedDescription,
                           "augmentation config: grayscaleProbability = 1.5; expected a probability in [0, 1]")
        }
        bad = cifar
        bad.std = [0.2, 0, 0.2]
        XCTAssertThrowsError(try AugmentationPipeline(bad)) { error in
            XCTAssertTrue(error.localizedDescription.contains("std"), error.localizedDescription)
        }
    }
}
