// Dense layers on the host for the projection head g (and anything else that works on [N, D]
// feature rows): Linear (OpenBLAS sgemm), BatchNorm1d and ReLU, each with its backward next to
// its forward. Buffers are kept per batch size and reused, so a training step allocates nothing.

import CBLAS
import Foundation
import TensorCore

/// A layer on [N, D] row-major tensors. `forward` keeps what `backward` needs; `backward`
/// writes its parameters' gradients and returns dL/dx. Returned tensors belong to the layer and
/// are overwritten by its next call.
public protocol DenseLayer: AnyObject {
    func forward(_ x: Tensor, training: Bool) -> Tensor
    func backward(_ dy: Tensor) -> Tensor
    var parameters: [Parameter] { get }
    var buffers: [Buffer] { get }
}

/// Per-batch-size output buffer cache.
struct Scratch {
    private var cache: [[Int]: Tensor] = [:]
    mutating func tensor(_ shape: [Int]) -> Tensor {
        if let t = cache[shape] { return t }
        let t = Tensor(shape: shape)
        cache[shape] = t
        return t
    }
}

/// y = x W^T + b, W [out, in] (PyTorch layout). Init as PyTorch: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
public final class Linear: DenseLayer {
    public let inputCount: Int, outputCount: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var input: Tensor?
    private var scratch = Scratch()
    private var gradScratch = Scratch()

    public init(inputCount: Int, outputCount: Int, bias: Bool = true, name: String, rng: inout RandomState) {
        self.inputCount = inputCount
        self.outputCount = outputCount
        let bound = 1 / Float(inputCount).squareRoot()
        let w = Tensor(shape: [outputCount, inputCount])
        for i in 0..<w.count { w[i] = rng.uniform(-bound, bound) }
        weight = Parameter(name: name + ".weight", role: .weight, value: w)
        if bias {
            let b = Tensor(shape: [outputCount])
            for i in 0..<b.count { b[i] = rng.uniform(-bound, bound) }
            self.bias = Parameter(name: name + ".bias", role: .bias, value: b)
        } else {
            self.bias = nil
        }
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var buffers: [Buffer] { [] }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.shape.count == 2 && x.shape[1] == inputCount, "Linear(\(weight.name)): input \(x.shape), expected [N, \(inputCount)]")
        let n = x.shape[0]
        let y = scratch.tensor([n, outputCount])
        if let b = bias {
            for r in 0..<n { (y.data + r * outputCount).update(from: b.value.data, count: outputCount) }
        }
        // y[N, out] (+)= x[N, in] * W^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(outputCount), Int32(inputCount),
                    1, x.data, Int32(inputCount), weight.value.data, Int32(inputCount), bias == nil ? 0 : 1,
                    y.data, Int32(outputCount))
        input = x
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Linear.backward before forward") }
        let n = x.shape[0]
        // dW[out, in] = dy^T x
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputCount), Int32(inputCount), Int32(n),
                    1, dy.data, Int32(outputCount), x.data, Int32(inputCount), 0, weight.grad.data, Int32(inputCount))
        // db = sum over rows of dy
        if let b = bias {
            b.grad.zero()
            for r in 0..<n {
                let row = dy.data + r * outputCount
                for j in 0..<outputCount { b.grad.data[j] += row[j] }
            }
        }
        // dx[N, in] = dy W
        let dx = gradScratch.tensor([n, inputCount])
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(inputCount), Int32(outputCount),
                    1, dy.data, Int32(outputCount), weight.value.data, Int32(inputCount), 0, dx.data, Int32(inputCount))
        return dx
    }
}

/// y = max(0, x).
public final class ReLU: DenseLayer {
    private var output: Tensor?
    private var scratch = Scratch()
    private var gradScratch = Scratch()
    public init() {}
    public var parameters: [Parameter] { [] }
    public var buffers: [Buffer] { [] }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let y = scratch.tensor(x.shape)
        for i in 0..<x.count { y.data[i] = max(0, x.data[i]) }
        output = y
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = output else { preconditionFailure("ReLU.backward before forward") }
        let dx = gradScratch.tensor(dy.shape)
        for i in 0..<dy.count { dx.data[i] = y.data[i] > 0 ? dy.data[i] : 0 }
        return dx
    }
}

/// BatchNorm over the rows of [N, D] (PyTorch BatchNorm1d): batch statistics in training (biased
/// variance to normalise, unbiased for the running variance, momentum 0.1), running ones in eval.
public final class BatchNorm1d: DenseLayer {
    public let features: Int
    public let epsilon: Float, momentum: Float
    let state: NormState
    public var weight: Parameter { state.weight }
    public var bias: Parameter { state.bias }
    public var runningMean: Buffer { state.runningMean }
    public var runningVar: Buffer { state.runningVar }
    public var numBatchesTracked: Buffer { state.numBatchesTracked }
    private var xhat: Tensor?
    private var invStd = [Float]()
    private var scratch = Scratch()
    private var gradScratch = Scratch()

    public init(features: Int, name: String, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.features = features
        self.epsilon = epsilon
        self.momentum = momentum
        state = NormState(count: features, name: name)
        invStd = [Float](repeating: 0, count: features)
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Buffer] { [runningMean, runningVar, numBatchesTracked] }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.shape.count == 2 && x.shape[1] == features, "BatchNorm1d(\(weight.name)): input \(x.shape)")
        let n = x.shape[0], d = features
        let y = scratch.tensor([n, d])
        let g = weight.value.data, b = bias.value.data
        if !training {
            for j in 0..<d {
                let s = 1 / (runningVar.value[j] + epsilon).squareRoot()
                let m = runningMean.value[j]
                for r in 0..<n { y.data[r * d + j] = (x.data[r * d + j] - m) * s * g[j] + b[j] }
            }
            return y
        }
        precondition(n > 1, "BatchNorm1d(\(weight.name)): training needs more than one row")
        let xh = gradScratch.tensor([n, d, 1])
        var mean = [Double](repeating: 0, count: d), variance = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d { mean[j] += Double(x.data[r * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        for r in 0..<n { for j in 0..<d { let c = Double(x.data[r * d + j]) - mean[j]; variance[j] += c * c } }
        for j in 0..<d {
            variance[j] /= Double(n)
            invStd[j] = Float(1 / (variance[j] + Double(epsilon)).squareRoot())
        }
        state.updateRunningStatistics(momentum: momentum, mean: { Float(mean[$0]) },
                                      unbiasedVariance: { Float(variance[$0] * Double(n) / Double(n - 1)) })
        for r in 0..<n {
            for j in 0..<d {
                let h = (x.data[r * d + j] - Float(mean[j])) * invStd[j]
                xh.data[r * d + j] = h
                y.data[r * d + j] = h * g[j] + b[j]
            }
        }
        xhat = xh
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let xh = xhat else { preconditionFailure("BatchNorm1d.backward before a training forward") }
        let n = dy.shape[0], d = features
        let dx = gradScratch.tensor([n, d])
        let g = weight.value.data
        // dbeta = sum dy; dgamma = sum dy * xhat;
        // dx = gamma * invStd / N * (N dy - dbeta - xhat * dgamma)
        var sumDy = [Double](repeating: 0, count: d), sumDyXh = [Double](repeating: 0, count: d)
        for r in 0..<n {
            for j in 0..<d {
                let v = Double(dy.data[r * d + j])
                sumDy[j] += v
                sumDyXh[j] += v * Double(xh.data[r * d + j])
            }
        }
        for j in 0..<d {
            bias.grad[j] = Float(sumDy[j])
            weight.grad[j] = Float(sumDyXh[j])
        }
        let invN = 1 / Float(n)
        for r in 0..<n {
            for j in 0..<d {
                let i = r * d + j
                dx.data[i] = g[j] * invStd[j] * invN
                    * (Float(n) * dy.data[i] - Float(sumDy[j]) - xh.data[i] * Float(sumDyXh[j]))
            }
        }
        return dx
    }
}
