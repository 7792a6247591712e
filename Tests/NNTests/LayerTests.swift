// Layer tests: literal PyTorch values (tools/make_nn_fixtures.py) and central-difference
// gradient checks for every oneDNN layer, forward and backward.
//
// Tolerances: oneDNN and PyTorch sum in different orders (blocked, vectorised, Winograd-free
// direct convolutions), so Float32 results differ by a few ulps of the largest partial sums:
// rtol 1e-4 / atol 1e-5 for values of order 1. Finite differences run in Float32 through the
// same kernels: with eps = 1e-2 on functions that are piecewise linear (conv, pool) or smooth
// (BN) the truncation error is O(eps^2 * f''') and rounding O(ulp(L) / eps) ~ 1e-4 relative,
// so they are compared at 2e-2 relative + 2e-3 absolute on the sampled coordinates.

import Foundation
import NN
import TestSupport
import XCTest

/// One layer as a network with plain input and output and an input gradient.
func harness(_ layer: PlannedLayer) -> PlannedNetwork {
    PlannedNetwork(layers: [layer], producesInputGradient: true)
}

/// L = sum(y * r) in Double.
func weightedSum(_ y: Tensor, _ r: Tensor) -> Double {
    var s = 0.0
    for i in 0..<y.count { s += Double(y[i]) * Double(r[i]) }
    return s
}

/// Compares analytic gradients with central differences on `samples` random coordinates of each
/// (value, analytic gradient, name) triple; `loss` recomputes the loss from the current values.
/// ReLU kinks make a central difference wrong when a unit crosses zero inside [x - eps, x + eps]
/// (BatchNorm puts many units near zero). Such coordinates are detected by comparing the
/// estimates at eps and eps/2 and skipped; at least half of the samples must be checked.
func checkCentralDifferences(
    loss: () throws -> Double, tensors: [(Tensor, Tensor, String)], samples: Int, eps: Float,
    rtol: Double, atol: Double, seed: UInt64 = 42, file: StaticString = #filePath, line: UInt = #line
) rethrows {
    var rng = TestRNG(seed: seed)
    for (t, analytic, what) in tensors {
        var skipped = 0
        for _ in 0..<samples {
            let i = Int(rng.next() % UInt64(t.count))
            let old = t[i]
            func central(_ e: Float) throws -> Double {
                t[i] = old + e
                let lp = try loss()
                t[i] = old - e
                let lm = try loss()
                t[i] = old
                return (lp - lm) / (2 * Double(e))
            }
            let numeric = try central(eps), half = try central(eps / 2)
            if abs(numeric - half) > atol + rtol * abs(numeric) { skipped += 1; continue }
            let a = Double(analytic[i])
            XCTAssertLessThanOrEqual(abs(a - numeric), atol + rtol * abs(numeric),
                                     "\(what)[\(i)]: analytic \(a), numeric \(numeric)", file: file, line: line)
        }
        XCTAssertLessThanOrEqual(skipped, samples / 2, "\(what): too many coordinates near a kink", file: file, line: line)
    }
}

/// Directional central differences: for a random direction v over a whole tensor,
/// (L(x + eps v) - L(x - eps v)) / 2 eps must equal <grad, v>. Summing over every coordinate
/// makes the derivative large compared with Float32 rounding of L, and a single ReLU crossing
/// moves it very little, so this is the robust check for deep compositions (per-coordinate
/// differences through several BatchNorms are dominated by Float32 rounding, in PyTorch too).
func checkDirectionalDerivatives(
    loss: () throws -> Double, tensors: [(Tensor, Tensor, String)], eps: Float, rtol: Double,
    seed: UInt64 = 7, file: StaticString = #filePath, line: UInt = #line
) rethrows {
    var rng = TestRNG(seed: seed)
    for (t, analytic, what) in tensors {
        let v = rng.tensor(t.shape)
        let saved = t.copy()
        var predicted = 0.0
        for i in 0..<t.count { predicted += Double(analytic[i]) * Double(v[i]) }
        for i in 0..<t.count { t[i] = saved[i] + eps * v[i] }
        let lp = try loss()
        for i in 0..<t.count { t[i] = saved[i] - eps * v[i] }
        let lm = try loss()
        t.assign(saved)
        let numeric = (lp - lm) / (2 * Double(eps))
        XCTAssertEqual(predicted, numeric, accuracy: rtol * max(abs(numeric), 1e-3),
                       "\(what): <grad, v> \(predicted), numeric \(numeric)", file: file, line: line)
    }
}

/// Central-difference check of a planned network's input and parameter gradients for
/// L = sum(y * r) with a fixed random r.
func checkGradients(
    network: PlannedNetwork, input: Tensor, parameters: [Parameter], samples: Int = 12, eps: Float = 1e-2,
    rtol: Double = 2e-2, atol: Double = 2e-3, checkInput: Bool = true, file: StaticString = #filePath, line: UInt = #line
) throws {
    var rng = TestRNG(seed: 42)
    let y0 = try network.forward(input, training: true)
    let r = rng.tensor(y0.shape)
    let dx = network.backward(r)?.copy()
    var tensors = parameters.map { ($0.value, $0.grad.copy(), $0.name) }
    if checkInput { tensors.insert((input, dx!, "dx"), at: 0) }
    try checkCentralDifferences(loss: { weightedSum(try network.forward(input, training: true), r) }, tensors: tensors,
                                samples: samples, eps: eps, rtol: rtol, atol: atol, file: file, line: line)
}

final class ConvTests: XCTestCase {
    func runFixture(_ name: String) throws {
        let f = try Fixtures.tensors(name)
        let meta = try Fixtures.json(name)["meta"] as! [String: Int]
        let w = f["w"]!
        var rng = RandomState(seed: 1)
        let conv = Conv2d(inChannels: w.shape[1], outChannels: w.shape[0], kernel: meta["k"]!, stride: meta["stride"]!,
                          padding: meta["padding"]!, name: "c", rng: &rng)
        conv.weight.value.assign(w)
        let net = harness(conv)
        let y = try net.forward(f["x"]!, training: true)
        assertClose(y, f["y"]!, rtol: 1e-4, atol: 1e-5)
        let dx = net.backward(f["dy"]!)!
        assertClose(dx, f["dx"]!, rtol: 1e-4, atol: 1e-5)
        assertClose(conv.weight.grad, f["dw"]!, rtol: 1e-4, atol: 1e-4)
        // Inference plan gives the same output.
        assertClose(try net.forward(f["x"]!, training: false), f["y"]!, rtol: 1e-4, atol: 1e-5)
    }

    func testStride1MatchesPyTorch() throws { try runFixture("nn_conv_s1") }
    func testStride2MatchesPyTorch() throws { try runFixture("nn_conv_s2") }
    func testPointwiseStride2MatchesPyTorch() throws { try runFixture("nn_conv_1x1_s2") }

    func testGradientsMatchFiniteDifferences() throws {
        var rng = RandomState(seed: 3)
        for (k, s, p) in [(3, 1, 1), (3, 2, 1), (1, 2, 0), (7, 2, 3)] {
            let conv = Conv2d(inChannels: 3, outChannels: 5, kernel: k, stride: s, padding: p, name: "c", rng: &rng)
            var t = TestRNG(seed: UInt64(k * 10 + s))
            try checkGradients(network: harness(conv), input: t.tensor([2, 3, 9, 9]), parameters: conv.parameters)
        }
    }

    func testInitialisationIsKaimingNormalFanOut() {
        var rng = RandomState(seed: 9)
        let conv = Conv2d(inChannels: 64, outChannels: 128, kernel: 3, name: "c", rng: &rng)
        let v = conv.weight.value.array.map(Double.init)
        let mean = v.reduce(0, +) / Double(v.count)
        let std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
        let expected = (2.0 / (128.0 * 9)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 3 * expected / Double(v.count).squareRoot() * 2)
        XCTAssertEqual(std, expected, accuracy: expected * 0.02)  // 73,728 draws: sampling error ~0.3%
    }
}

final class BatchNormTests: XCTestCase {
    func runFixture(_ name: String, relu: Bool) throws {
        let f = try Fixtures.tensors(name)
        let bn = BatchNorm2d(channels: 5, name: "bn", fusedReLU: relu)
        bn.weight.value.assign(f["gamma"]!)
        bn.bias.value.assign(f["beta"]!)
        bn.runningMean.value.assign(f["running_mean0"]!)
        bn.runningVar.value.assign(f["running_var0"]!)
        let net = harness(bn)
        assertClose(try net.forward(f["x"]!, training: true), f["y"]!, rtol: 1e-4, atol: 1e-5)
        // Running statistics: momentum 0.1, unbiased variance, after exactly one training forward.
        assertClose(bn.runningMean.value, f["running_mean"]!, rtol: 1e-5, atol: 1e-6)
        assertClose(bn.runningVar.value, f["running_var"]!, rtol: 1e-5, atol: 1e-6)
        XCTAssertEqual(bn.numBatchesTracked.value[0], 1)
        let dx = net.backward(f["dy"]!)!
        assertClose(dx, f["dx"]!, rtol: 1e-4, atol: 1e-5)
        assertClose(bn.weight.grad, f["dgamma"]!, rtol: 1e-4, atol: 1e-5)
        assertClose(bn.bias.grad, f["dbeta"]!, rtol: 1e-4, atol: 1e-5)
        // Evaluation mode normalises with the running statistics.
        assertClose(try net.forward(f["x"]!, training: false), f["y_eval"]!, rtol: 1e-4, atol: 1e-5)
    }

    func testTrainAndEvalMatchPyTorch() throws { try runFixture("nn_bn", relu: false) }
    func testFusedReLUMatchesPyTorch() throws { try runFixture("nn_bn_relu", relu: true) }

    func testGradientsMatchFiniteDifferences() throws {
        for relu in [false, true] {
            let bn = BatchNorm2d(channels: 3, name: "bn", fusedReLU: relu)
            var t = TestRNG(seed: 5)
            for i in 0..<3 { bn.weight.value[i] = t.uniform(0.5, 1.5); bn.bias.value[i] = t.uniform(-0.3, 0.3) }
            // Inputs far from BN's kinks are not needed: BN is smooth; ReLU kinks are avoided by
            // the shift (|bn(x)| is rarely within eps of 0 for these 12 samples).
            try checkGradients(network: harness(bn), input: t.tensor([4, 3, 3, 3], -2, 2), parameters: bn.parameters,
                               eps: 1e-3, rtol: 3e-2, atol: 5e-3)
        }
    }
}

final class ResidualBlockTests: XCTestCase {
    /// v[k] = scale * sin(a (k + 1) + b) in Double, rounded to Float (tools/make_block_fixtures.py).
    static func formula(_ n: Int, _ a: Double, _ b: Double, _ scale: Double) -> [Float] {
        (0..<n).map { Float(scale * sin(a * Double($0 + 1) + b)) }
    }

    /// Basic and bottleneck blocks, identity and projection shortcuts, 16+ channels (oneDNN's
    /// blocked kernels), against PyTorch in Float64: y, dx and every parameter gradient, compared
    /// through four projections each (see the script). Tolerance 1e-5 x ||T|| per projection:
    /// our Float32 results are ~3e-7 ||T|| from Float64; a wrong chain-rule term is O(||T||).
    func testBlocksMatchPyTorchFloat64() throws {
        let fixture = try Fixtures.json("nn_blocks")
        for (ci, (cin, planes, stride, bottleneck)) in [(16, 16, 1, false), (16, 32, 2, false), (32, 8, 1, true), (16, 8, 2, true)].enumerated() {
            var rng = RandomState(seed: 3)
            let block = ResidualBlock(bottleneck: bottleneck, inChannels: cin, planes: planes, stride: stride, name: "b", rng: &rng)
            for (index, p) in block.parameters.enumerated() {
                let name = String(p.name.dropFirst(2))
                let n = p.value.count
                let values: [Float]
                if name.hasPrefix("bn") || name.hasPrefix("downsample.1") {
                    let base: Float = name.hasSuffix("weight") ? 1 : 0
                    values = Self.formula(n, 0.37 + 0.01 * Double(index), 0.3, 0.2).map { base + $0 }
                } else {
                    let fanIn = p.shape.dropFirst().reduce(1, *)
                    values = Self.formula(n, 0.7548776662 + 0.013 * Double(index), 0.1 * Double(index), (3.0 / Double(fanIn)).squareRoot())
                }
                p.value.assign(Tensor(shape: p.shape, values: values))
            }
            let x = Tensor(shape: [4, cin, 8, 8], values: Self.formula(4 * cin * 64, 0.31, 0.2, 1.5))
            let net = PlannedNetwork(layers: [block], producesInputGradient: true)
            let y = try net.forward(x, training: true).copy()
            let r = Tensor(shape: y.shape, values: Self.formula(y.count, 0.53, 0.7, 1.0))
            let dx = net.backward(r)!.copy()
            let expected = fixture["case\(ci)"] as! [String: [String: Any]]
            func check(_ t: Tensor, _ key: String) {
                let e = expected[key]!
                let norm = e["norm"] as! Double
                let proj = e["proj"] as! [Double]
                for k in 0..<4 {
                    let u = Self.formula(t.count, 0.1 + 0.2 * Double(k), 0.5 * Double(k), 1.0)
                    var p = 0.0
                    for i in 0..<t.count { p += Double(t[i]) * Double(u[i]) }
                    XCTAssertEqual(p, proj[k], accuracy: 1e-5 * norm * Double(t.count).squareRoot(), "case \(ci) \(key) projection \(k)")
                }
            }
            check(y, "y")
            check(dx, "dx")
            for p in block.parameters { check(p.grad, "grad." + p.name) }
        }
    }
}

final class PoolTests: XCTestCase {
    func testMaxPoolMatchesPyTorch() throws {
        let f = try Fixtures.tensors("nn_maxpool")
        let net = harness(MaxPool2d())
        assertClose(try net.forward(f["x"]!, training: true), f["y"]!, rtol: 0, atol: 0)
        assertClose(net.backward(f["dy"]!)!, f["dx"]!, rtol: 1e-6, atol: 1e-6)
    }

    func testGlobalAveragePoolIsTheMeanAndSpreadsTheGradient() throws {
        var t = TestRNG(seed: 8)
        let x = t.tensor([2, 3, 4, 5])
        let net = PlannedNetwork(layers: [GlobalAvgPool()], producesInputGradient: true, flattensOutput: true)
        let y = try net.forward(x, training: true)
        XCTAssertEqual(y.shape, [2, 3])
        for nc in 0..<6 {
            var s: Float = 0
            for k in 0..<20 { s += x[nc * 20 + k] }
            XCTAssertEqual(y[nc], s / 20, accuracy: 1e-6)
        }
        let dy = t.tensor([2, 3])
        let dx = net.backward(dy)!
        for i in 0..<x.count { XCTAssertEqual(dx[i], dy[i / 20] / 20, accuracy: 1e-7) }
    }
}
