// Winograd F(4x4, 3x3) convolutions (ConvolutionAlgorithm): that they are really used where
// chosen, and that forward, input gradient and weight gradient agree with a float64 convolution
// computed here, as closely as oneDNN's direct kernels do.
//
// Tolerance: float32 convolution sums C*9 = 288 products of O(1) terms; direct kernels land
// within 3e-7..6e-7 of the largest |value| here (y, dx, dW). The Winograd transforms multiply by
// constants up to 8 and add a few roundings more: 8e-7..1.1e-6 here. Both are compared at 2e-5 of
// the largest |value|, ~20x above the Winograd error; a transform bug (a wrong tile, a dropped
// edge row) gives errors of order 1e-1.

import Foundation
import NN
import TensorCore
import TestSupport
import XCTest

final class WinogradTests: XCTestCase {
    /// y[n,o,i,j] = sum w[o,c,u,v] x[n,c,i+u-1,j+v-1] in float64, with dx and dW for a given dy.
    func reference(x: Tensor, w: Tensor, dy: Tensor) -> (y: [Double], dx: [Double], dw: [Double]) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let o = w.shape[0]
        var y = [Double](repeating: 0, count: n * o * h * wd)
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: w.count)
        for b in 0..<n { for oc in 0..<o { for i in 0..<h { for j in 0..<wd {
            let yi = ((b * o + oc) * h + i) * wd + j
            var s = 0.0
            let g = Double(dy[yi])
            for ic in 0..<c { for u in 0..<3 { for v in 0..<3 {
                let si = i + u - 1, sj = j + v - 1
                guard si >= 0, si < h, sj >= 0, sj < wd else { continue }
                let xi = ((b * c + ic) * h + si) * wd + sj, wi = ((oc * c + ic) * 3 + u) * 3 + v
                s += Double(w[wi]) * Double(x[xi])
                dx[xi] += Double(w[wi]) * g
                dw[wi] += Double(x[xi]) * g
            } } }
            y[yi] = s
        } } } }
        return (y, dx, dw)
    }

    func relativeError(_ a: Tensor, _ ref: [Double]) -> Double {
        let scale = ref.reduce(0) { max($0, abs($1)) }
        var worst = 0.0
        for i in 0..<a.count { worst = max(worst, abs(Double(a[i]) - ref[i])) }
        return worst / scale
    }

    /// Runs one forward and backward of a 3x3 stride-1 conv under `algorithm` and returns the
    /// errors against float64 and the number of Winograd primitives in the pass.
    func run(channels: Int, algorithm: ConvolutionAlgorithm, height: Int = 11, width: Int = 13)
        throws -> (y: Double, dx: Double, dw: Double, winograd: Int)
    {
        var rng = RandomState(seed: 7)
        let conv = Conv2d(inChannels: channels, outChannels: channels, kernel: 3, padding: 1, name: "c", rng: &rng)
        let net = harness(conv)
        net.convolutionAlgorithm = algorithm
        var trng = TestRNG(seed: 11)
        let x = trng.tensor([3, channels, height, width])
        let dy = trng.tensor([3, channels, height, width])
        let y = try net.forward(x, training: true)
        let yCopy = Tensor(shape: y.shape)
        yCopy.assign(y)
        let dx = net.backward(dy)!
        let ref = reference(x: x, w: conv.weight.value, dy: dy)
        let pass = try net.compiled(inputShape: x.shape, training: true)
        return (relativeError(yCopy, ref.y), relativeError(dx, ref.dx), relativeError(conv.weight.grad, ref.dw),
                pass.winogradPrimitives)
    }

    func testWinogradIsUsedAndMatchesFloat64LikeDirect() throws {
        let direct = try run(channels: 32, algorithm: .direct)
        let wino = try run(channels: 32, algorithm: .winograd)
        XCTAssertEqual(direct.winograd, 0)
        XCTAssertEqual(wino.winograd, 3, "forward, backward-data and backward-weights should all run Winograd")
        for (name, d, w) in [("y", direct.y, wino.y), ("dx", direct.dx, wino.dx), ("dW", direct.dw, wino.dw)] {
            XCTAssertLessThan(d, 2e-5, "direct \(name): relative error \(d)")
            XCTAssertLessThan(w, 2e-5, "winograd \(name): relative error \(w)")
        }
    }

    func testAutoUsesWinogradFrom16ChannelsAndForBackwardDataFrom32() throws {
        XCTAssertEqual(try run(channels: 8, algorithm: .auto, height: 8, width: 8).winograd, 0)
        let narrow = try run(channels: 16, algorithm: .auto, height: 8, width: 8)
        XCTAssertEqual(narrow.winograd, 2, "forward and backward-weights only")
        XCTAssertLessThan(max(narrow.y, narrow.dx, narrow.dw), 2e-5)
        let wide = try run(channels: 32, algorithm: .auto, height: 8, width: 8)
        XCTAssertEqual(wide.winograd, 3)
        XCTAssertLessThan(max(wide.y, wide.dx, wide.dw), 2e-5)
    }

    func testStridedAndPointwiseConvolutionsStayDirect() throws {
        var rng = RandomState(seed: 3)
        for (k, s, p) in [(3, 2, 1), (1, 1, 0)] {
            let conv = Conv2d(inChannels: 32, outChannels: 32, kernel: k, stride: s, padding: p, name: "c", rng: &rng)
            let net = harness(conv)
            net.convolutionAlgorithm = .winograd
            let pass = try net.compiled(inputShape: [2, 32, 8, 8], training: true)
            XCTAssertEqual(pass.winogradPrimitives, 0, "kernel \(k) stride \(s)")
        }
    }
}
