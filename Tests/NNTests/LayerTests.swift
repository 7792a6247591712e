// Layer tests: literal PyTorch values (tools/make_nn_fixtures.py) and central-difference
// gradient checks for every oneDNN layer, forward and backward.
//
// Tolerances: oneDNN and PyTorch sum in different orders (blocked, vectorised, Winograd-free
// direct convolutions), so Float32 results differ by a few ulps of the largest partial sums:
// rtol 1e-4 / atol 1e-5 for values of order 1. Finite differences run in Float32 through the
// same kernels: with eps = 1e-2 on functions that are piecewise linear (conv, pool) or smooth
// (BN) the truncation error is O(eps^2 * f''') and rounding O(ulp(L) / eps) ~ 1e-4 relative,
// so they are compared at 2e-2 relative + 2e-3 absolute on the sampled coordinates.

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

/// Compares analytic gradients with central differences on `samples` coordinates of each tensor.
func checkGradients(
    network: PlannedNetwork, input: Tensor, parameters: [Parameter], samples: Int = 12, eps: Float = 1e-2,
    rtol: Double = 2e-2, atol: Double = 2e-3, file: StaticString = #filePath, line: UInt = #line
) throws {
    var rng = TestRNG(seed: 42)
    let y0 = try network.forward(input, training: true)
    let r = rng.tensor(y0.shape)
    let dx = network.backward(r)!.copy()
    let grads = parameters.map { $0.grad.copy() }
    func loss() throws -> Double { weightedSum(try network.forward(input, training: true), r) }
    func check(_ t: Tensor, _ analytic: Tensor, _ what: String) throws {
        for _ in 0..<samples {
            let i = Int(rng.next() % UInt64(t.count))
            let old = t[i]
            t[i] = old + eps
            let lp = try loss()
            t[i] = old - eps
            let lm = try loss()
            t[i] = old
            let numeric = (lp - lm) / (2 * Double(eps))
            let a = Double(analytic[i])
            XCTAssertLessThanOrEqual(abs(a - numeric), atol + rtol * abs(numeric),
                                     "\(what)[\(i)]: analytic \(a), numeric \(numeric)", file: file, line: line)
        }
    }
    try check(input, dx, "dx")
    for (p, g) in zip(parameters, grads) { try check(p.value, g, p.name) }
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
