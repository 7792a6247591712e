// NT-Xent tests: PyTorch reference values (tools/make_ntxent_fixtures.py), a slow Double loop
// written from the paper's Algorithm 1, central-difference gradients in Double, symmetry,
// closed forms, a grid over (V, N, D, tau), and the refused inputs.
import Foundation
@testable import SimCLR
import TensorCore
import TestSupport
import XCTest

/// Slow NT-Xent in Double, straight from Algorithm 1 of Chen et al. (2020), generalised to V views:
/// s_ij = z_i.z_j / (|z_i| |z_j|), l(i, j) = -log( exp(s_ij/tau) / sum_{k != i} exp(s_ik/tau) ),
/// L = 1/(V N) * sum over images k, ordered view pairs (v, w), v != w of l(vN+k, wN+k) / (V-1).
/// For V = 2: L = 1/(2N) sum_k [l(k, N+k) + l(N+k, k)], the paper's formula in our row layout.
/// Accuracy by full sort of each anchor's other rows (ties sorted with negatives first).
struct SlowNTXent {
    let views: Int, images: Int, dim: Int, temperature: Double

    func similarity(_ z: [Double]) -> [[Double]] {
        let m = views * images
        var unit = z
        for a in 0..<m {
            var sq = 0.0
            for k in 0..<dim { sq += z[a * dim + k] * z[a * dim + k] }
            let norm = max(sq.squareRoot(), 1e-12)
            for k in 0..<dim { unit[a * dim + k] = z[a * dim + k] / norm }
        }
        var s = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
        for i in 0..<m {
            for j in 0..<m {
                var dot = 0.0
                for k in 0..<dim { dot += unit[i * dim + k] * unit[j * dim + k] }
                s[i][j] = dot
            }
        }
        return s
    }

    func loss(_ z: [Double]) -> Double {
        let s = similarity(z)
        let m = views * images
        func l(_ i: Int, _ j: Int) -> Double {
            var denominator = 0.0
            for k in 0..<m where k != i { denominator += exp(s[i][k] / temperature) }
            return -log(exp(s[i][j] / temperature) / denominator)
        }
        var total = 0.0
        for k in 0..<images {
            for v in 0..<views {
                for w in 0..<views where w != v { total += l(v * images + k, w * images + k) / Double(views - 1) }
            }
        }
        return total / Double(m)
    }

    func accuracy(_ z: [Double]) -> (top1: Double, top5: Double) {
        let s = similarity(z)
        let m = views * images
        var hit1 = 0, hit5 = 0
        for a in 0..<m {
            let others = (0..<m).filter { $0 != a }.map { b in (score: s[a][b], positive: b % images == a % images) }
            let ranked = others.sorted { x, y in x.score != y.score ? x.score > y.score : !x.positive && y.positive }
            if ranked[0].positive { hit1 += 1 }
            if ranked.prefix(5).contains(where: { $0.positive }) { hit5 += 1 }
        }
        return (Double(hit1) / Double(m), Double(hit5) / Double(m))
    }
}

final class NTXentTests: XCTestCase {
    private func randomZ(_ rng: inout TestRNG, views: Int, images: Int, dim: Int) -> Tensor {
        rng.tensor([views * images, dim])
    }

    private func doubles(_ t: Tensor) -> [Double] { t.array.map(Double.init) }

    // MARK: PyTorch reference values

    private func checkFixture(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let t = try Fixtures.tensors(name)
        let meta = try XCTUnwrap(try Fixtures.json(name)["meta"] as? [String: Any])
        let views = try XCTUnwrap(meta["views"] as? Int)
        let tau = try XCTUnwrap(meta["temperature"] as? Double)
        let z = try XCTUnwrap(t["z"]), expectedGrad = try XCTUnwrap(t["grad"])
        let loss = try NTXentLoss(temperature: Float(tau), views: views)
        let grad = Tensor(shape: z.shape)
        let result = try loss(z, gradient: grad)
        // Loss: Float32 logits carry ~1e-7 relative error each; the mean of log-sum-exps keeps it there.
        assertClose([result.loss], t["loss"]!.array, rtol: 1e-5, atol: 0, "loss", file: file, line: line)
        // Accuracy is a count over anchors: exact (no near-ties in the fixture data).
        XCTAssertEqual([result.top1, result.top5], t["accuracy"]!.array, "accuracy", file: file, line: line)
        // Gradient entries are O(1e-2); Float32 round-off of the softmax and the two GEMMs is O(1e-7) of
        // the largest term, so 1e-4 relative with an absolute floor of 1e-5 of the largest entry.
        let scale = expectedGrad.array.map(abs).max()!
        assertClose(grad, expectedGrad, rtol: 1e-4, atol: 1e-5 * scale, "dL/dz", file: file, line: line)
    }

    func testMatchesPyTorchTwoViews() throws { try checkFixture("ntxent_v2") }

    func testMatchesPyTorchThreeViews() throws { try checkFixture("ntxent_v3") }

    // MARK: Slow loop from Algorithm 1

    func testGridAgainstSlowLoop() throws {
        var rng = TestRNG(seed: 11)
        for views in [2, 3] {
            for images in [2, 3, 9, 24] {
                for dim in [2, 7, 64] {
                    for tau in [0.05, 0.1, 0.5, 1.0] {
                        let z = randomZ(&rng, views: views, images: images, dim: dim)
                        let slow = SlowNTXent(views: views, images: images, dim: dim, temperature: tau)
                        let result = try NTXentLoss(temperature: Float(tau), views: views)(z)
                        let label = "V=\(views) N=\(images) D=\(dim) tau=\(tau)"
                        // Float32 logits up to 1/tau = 20 in magnitude: relative error ~ 20 * 6e-8 per term.
                        assertClose([result.loss], [Float(slow.loss(doubles(z)))], rtol: 1e-5, atol: 1e-6, label)
                        let acc = slow.accuracy(doubles(z))
                        XCTAssertEqual(result.top1, Float(acc.top1), "top1 " + label)
                        XCTAssertEqual(result.top5, Float(acc.top5), "top5 " + label)
                    }
                }
            }
        }
    }

    /// Big enough (M = 400 rows) for the row pass to be split across threads.
    func testLargeBatchAgainstSlowLoop() throws {
        var rng = TestRNG(seed: 5)
        let z = randomZ(&rng, views: 2, images: 200, dim: 16)
        let slow = SlowNTXent(views: 2, images: 200, dim: 16, temperature: 0.2)
        let result = try NTXentLoss(temperature: 0.2)(z)
        assertClose([result.loss], [Float(slow.loss(doubles(z)))], rtol: 1e-5)
        let acc = slow.accuracy(doubles(z))
        XCTAssertEqual(result.top1, Float(acc.top1))
        XCTAssertEqual(result.top5, Float(acc.top5))
    }

    // MARK: Gradient check

    /// Analytic Float32 gradient against central differences of the Double slow loop
    /// (eps 1e-5: truncation ~eps^2 = 1e-10, round-off ~1e-16/1e-5 = 1e-11, so the reference is exact
    /// to far below the Float32 analytic gradient's own error, ~1e-7 of its largest term).
    func testGradientAgainstCentralDifferences() throws {
        var rng = TestRNG(seed: 3)
        for (views, images, dim, tau) in [(2, 3, 4, 0.5), (2, 4, 5, 0.1), (3, 3, 4, 0.2), (4, 2, 3, 1.0)] {
            let z = rng.tensor([views * images, dim], -2, 2)
            let grad = Tensor(shape: z.shape)
            try NTXentLoss(temperature: Float(tau), views: views)(z, gradient: grad)
            let slow = SlowNTXent(views: views, images: images, dim: dim, temperature: tau)
            var x = doubles(z)
            var numeric = [Float](repeating: 0, count: x.count)
            let eps = 1e-5
            for k in 0..<x.count {
                let saved = x[k]
                x[k] = saved + eps
                let plus = slow.loss(x)
                x[k] = saved - eps
                let minus = slow.loss(x)
                x[k] = saved
                numeric[k] = Float((plus - minus) / (2 * eps))
            }
            let scale = numeric.map(abs).max()!
            assertClose(grad.array, numeric, rtol: 1e-3, atol: 1e-4 * scale, "V=\(views) N=\(images) D=\(dim) tau=\(tau)")
        }
    }

    // MARK: Properties and closed forms

    /// Swapping the two views of every image permutes the anchors: same loss, gradient rows swapped.
    func testSymmetricInTheViews() throws {
        var rng = TestRNG(seed: 7)
        let n = 10, d = 12
        let z = randomZ(&rng, views: 2, images: n, dim: d)
        let swapped = Tensor(shape: z.shape)
        swapped.data.update(from: z.data + n * d, count: n * d)
        (swapped.data + n * d).update(from: z.data, count: n * d)
        let loss = try NTXentLoss(temperature: 0.3)
        let g = Tensor(shape: z.shape), gs = Tensor(shape: z.shape)
        let a = try loss(z, gradient: g)
        let b = try loss(swapped, gradient: gs)
        assertClose([b.loss], [a.loss], rtol: 1e-6, atol: 0)
        XCTAssertEqual(a.top1, b.top1)
        XCTAssertEqual(a.top5, b.top5)
        let gBack = Tensor(shape: z.shape)
        gBack.data.update(from: gs.data + n * d, count: n * d)
        (gBack.data + n * d).update(from: gs.data, count: n * d)
        assertClose(gBack, g, rtol: 1e-5, atol: 1e-7)
    }

    /// All rows equal: every logit is 1/tau, so each -log p = log(V N - 1); no positive beats a
    /// negative (ties count against), and the gradient vanishes.
    func testIdenticalRowsGiveLogOfOthers() throws {
        for (views, images) in [(2, 4), (2, 16), (3, 5)] {
            let m = views * images
            let z = Tensor(shape: [m, 6])
            for a in 0..<m { for k in 0..<6 { z[a * 6 + k] = Float(k) - 2.5 } }
            let grad = Tensor(shape: z.shape, repeating: 1)
            let r = try NTXentLoss(temperature: 0.5, views: views)(z, gradient: grad)
            assertClose([r.loss], [Float(log(Double(m - 1)))], rtol: 1e-6, atol: 0, "V=\(views) N=\(images)")
            XCTAssertEqual(r.top1, 0)
            XCTAssertEqual(r.top5, 0)
            XCTAssertLessThan(grad.array.map(abs).max()!, 1e-6)
        }
    }

    /// Images on orthogonal axes, views equal up to scale: s_pos = 1, s_neg = 0, so for V = 2
    /// L = -log(e^{1/tau} / (e^{1/tau} + 2N - 2)) = log(1 + (2N - 2) e^{-1/tau}); every anchor is a top-1 hit.
    func testOrthogonalImagesClosedForm() throws {
        let n = 5, d = 7
        for tau in [0.1, 0.5, 2.0] {
            let z = Tensor(shape: [2 * n, d])
            for i in 0..<n {
                z[i * d + i] = 1
                z[(n + i) * d + i] = 3  // a longer copy: normalisation removes the scale
            }
            let r = try NTXentLoss(temperature: Float(tau))(z)
            let expected = log(1 + Double(2 * n - 2) * exp(-1 / tau))
            assertClose([r.loss], [Float(expected)], rtol: 1e-5, atol: 1e-7, "tau=\(tau)")
            XCTAssertEqual(r.top1, 1)
            XCTAssertEqual(r.top5, 1)
        }
    }

    /// L2 normalisation inside: scaling z leaves the loss unchanged and divides the gradient by the scale.
    func testScaleInvariance() throws {
        var rng = TestRNG(seed: 9)
        let z = randomZ(&rng, views: 2, images: 6, dim: 5)
        let z4 = Tensor(shape: z.shape)
        for k in 0..<z.count { z4[k] = 4 * z[k] }
        let loss = try NTXentLoss(temperature: 0.5)
        let g = Tensor(shape: z.shape), g4 = Tensor(shape: z.shape)
        let a = try loss(z, gradient: g), b = try loss(z4, gradient: g4)
        assertClose([b.loss], [a.loss], rtol: 1e-6, atol: 0)
        for k in 0..<g.count { g4[k] *= 4 }
        assertClose(g4, g, rtol: 1e-5, atol: 1e-7)
    }

    /// tau = 0.01 puts logits at +-100: exp overflows Float without the max shift.
    func testStableAtLowTemperature() throws {
        var rng = TestRNG(seed: 13)
        let z = randomZ(&rng, views: 2, images: 8, dim: 4)
        let grad = Tensor(shape: z.shape)
        let r = try NTXentLoss(temperature: 0.01)(z, gradient: grad)
        XCTAssertTrue(r.loss.isFinite)
        XCTAssertTrue(grad.array.allSatisfy(\.isFinite))
        let slow = SlowNTXent(views: 2, images: 8, dim: 4, temperature: 0.01).loss(doubles(z))
        assertClose([r.loss], [Float(slow)], rtol: 1e-4, atol: 1e-5)
    }

    /// Reusing one instance across batch sizes / dimensions reallocates its buffers correctly.
    func testReuseAcrossShapes() throws {
        var rng = TestRNG(seed: 17)
        let shared = try NTXentLoss(temperature: 0.5)
        for (n, d) in [(4, 8), (4, 8), (9, 3), (2, 16), (4, 8)] {
            let z = randomZ(&rng, views: 2, images: n, dim: d)
            let g1 = Tensor(shape: z.shape), g2 = Tensor(shape: z.shape)
            let a = try shared(z, gradient: g1)
            let b = try NTXentLoss(temperature: 0.5)(z, gradient: g2)
            XCTAssertEqual(a, b)
            XCTAssertEqual(g1.array, g2.array)
        }
    }

    /// The vectorised exp of the softmax pass against Double exp over its whole range:
    /// within 3 ulp (2e-7 relative); below -87 it returns at most ~1e-38 (the caller zeroes self).
    func testVectorExpAccuracy() {
        var worst = 0.0
        var x = -87.0
        while x <= 88 {
            var lanes = SIMD8<Float>()
            for k in 0..<8 { lanes[k] = Float(x + Double(k) * 0.001_37) }
            let e = vectorExp(lanes)
            for k in 0..<8 {
                let exact = exp(Double(lanes[k]))
                worst = max(worst, abs(Double(e[k]) - exact) / exact)
            }
            x += 0.0173
        }
        XCTAssertLessThan(worst, 2e-7)
        XCTAssertEqual(vectorExp(SIMD8<Float>(repeating: 0))[0], 1)
        XCTAssertLessThan(vectorExp(SIMD8<Float>(repeating: -.infinity))[3], 1e-37)
    }

    // MARK: Refused inputs

    func testRefusesBadConfigurationAndShapes() throws {
        for tau: Float in [0, -0.5, .nan, .infinity] {
            XCTAssertThrowsError(try NTXentLoss(temperature: tau)) { error in
                guard case .invalidTemperature = error as? NTXentError else { return XCTFail("\(error)") }
                XCTAssertTrue(error.localizedDescription.contains("temperature"), error.localizedDescription)
            }
        }
        XCTAssertThrowsError(try NTXentLoss(temperature: 0.5, views: 1)) { error in
            XCTAssertEqual(error as? NTXentError, .invalidViews(1))
            XCTAssertTrue(error.localizedDescription.contains("views must be >= 2"), error.localizedDescription)
        }
        let loss = try NTXentLoss(temperature: 0.5, views: 2)
        for shape in [[5, 4], [2, 4], [8], [8, 0], [2, 4, 4]] {
            XCTAssertThrowsError(try loss(Tensor(shape: shape)), "\(shape)") { error in
                XCTAssertEqual(error as? NTXentError, .invalidShape(shape: shape, views: 2))
                XCTAssertTrue(error.localizedDescription.contains("\(shape)"), error.localizedDescription)
            }
        }
        XCTAssertThrowsError(try NTXentLoss(temperature: 0.5, views: 3)(Tensor(shape: [8, 4]))) { error in
            XCTAssertEqual(error as? NTXentError, .invalidShape(shape: [8, 4], views: 3))
        }
        XCTAssertThrowsError(try loss(Tensor(shape: [8, 4]), gradient: Tensor(shape: [8, 5]))) { error in
            XCTAssertEqual(error as? NTXentError, .gradientShapeMismatch(gradient: [8, 5], input: [8, 4]))
            XCTAssertTrue(error.localizedDescription.contains("[8, 5]"), error.localizedDescription)
        }
    }
}
