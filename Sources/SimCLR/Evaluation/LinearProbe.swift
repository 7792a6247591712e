// Linear evaluation of frozen features (SimCLR, Chen et al. 2020, Sec. 4 / Appendix B.6): a
// multinomial logistic regression trained on the training split's features and scored on the
// evaluation split. It follows the project's PyTorch reference (bench/torch_simclr_train.py,
// `linear_probe`) so the numbers are comparable:
//   - features standardised with the training mean and the unbiased (N - 1) standard deviation,
//     clamped below at 1e-8; the same transform is applied to the evaluation features;
//   - loss  L(W, b) = (1/N) sum_i [logsumexp_c z_ic - z_{i,y_i}] + (l2 / 2) ||W||_F^2,
//     z = X W + 1 b', W [D, C], b [C] (no penalty on b), l2 = 1e-4;
//   - float64, full batch, from W = 0, b = 0, L-BFGS with a strong Wolfe line search (LBFGS.swift),
//     at most 500 iterations; nothing is tuned on the evaluation split.
// Loss and gradient are two dgemm calls per evaluation: Z = X W (+ b), dW = X' (P - Y) / N + l2 W.
// Memory: the standardised training features are held in Double (8 N D bytes: 41 MB for
// 40,000 x 128, 1.6 GB for 100,000 x 2,048), like the reference's `xtr.double()`.

import CBLAS
import Foundation
import TensorCore

/// Per-feature standardisation fitted on training features: x' = (x - mean) / std.
public struct FeatureStandardizer: Sendable, Equatable {
    public var mean: [Double]
    /// Unbiased standard deviation (divisor N - 1), clamped below at 1e-8 (torch `std().clamp_min(1e-8)`).
    public var std: [Double]

    /// Fits mean and standard deviation of the columns of `features` [N, D].
    public init(fitting features: Tensor) {
        precondition(features.shape.count == 2, "FeatureStandardizer: features must be [N, D], got \(features.shape)")
        let n = features.shape[0], d = features.shape[1]
        var sum = [Double](repeating: 0, count: d)
        var sq = [Double](repeating: 0, count: d)
        let x = UnsafeBufferPointer(features.buffer)
        for r in 0..<n {
            for c in 0..<d { sum[c] += Double(x[r * d + c]) }
        }
        let mean = sum.map { $0 / Double(max(n, 1)) }
        for r in 0..<n {
            for c in 0..<d {
                let v = Double(x[r * d + c]) - mean[c]
                sq[c] += v * v
            }
        }
        self.mean = mean
        std = sq.map { max(($0 / Double(max(n - 1, 1))).squareRoot(), 1e-8) }
    }

    public init(mean: [Double], std: [Double]) {
        self.mean = mean
        self.std = std
    }

    /// The standardised features [N, D] as row-major Doubles.
    public func apply(_ features: Tensor) -> [Double] {
        let d = mean.count
        precondition(features.shape.count == 2 && features.shape[1] == d,
                     "FeatureStandardizer: features \(features.shape) for dimension \(d)")
        let n = features.shape[0]
        let inv = std.map { 1 / $0 }
        var out = [Double](repeating: 0, count: n * d)
        let x = UnsafeBufferPointer(features.buffer)
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<n {
                for c in 0..<d { o[r * d + c] = (Double(x[r * d + c]) - mean[c]) * inv[c] }
            }
        }
        return out
    }
}

/// The mean cross-entropy of a softmax regression plus an L2 penalty on W, with its gradient.
///
/// Parameters theta = [W row-major [D, C], b [C]];
/// f = (1/N) sum_i CE(softmax(x_i W + b), y_i) + (l2 / 2) ||W||^2,
/// dW = X' (P - Y) / N + l2 W, db = column sums of (P - Y) / N.
public final class SoftmaxRegressionObjective {
    public let sampleCount: Int
    public let featureCount: Int
    public let classCount: Int
    public let l2: Double
    let x: [Double]
    let labels: [Int]
    var logits: [Double]

    /// `x`: standardised features [N, D] row-major; labels in 0..<classCount (checked by the caller).
    public init(features x: [Double], labels: [Int], featureCount: Int, classCount: Int, l2: Double) {
        precondition(featureCount > 0 && x.count == labels.count * featureCount,
                     "SoftmaxRegressionObjective: \(x.count) values for \(labels.count) x \(featureCount)")
        self.x = x
        self.labels = labels
        sampleCount = labels.count
        self.featureCount = featureCount
        self.classCount = classCount
        self.l2 = l2
        logits = [Double](repeating: 0, count: labels.count * classCount)
    }

    /// Number of parameters: D * C + C.
    public var parameterCount: Int { featureCount * classCount + classCount }

    /// f(theta); writes df/dtheta into `gradient`.
    public func evaluate(_ theta: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>) -> Double {
        let n = sampleCount, d = featureCount, c = classCount
        precondition(theta.count == parameterCount && gradient.count == parameterCount)
        let w = theta.baseAddress!, b = theta.baseAddress! + d * c
        let gw = gradient.baseAddress!, gb = gradient.baseAddress! + d * c
        var loss = 0.0
        x.withUnsafeBufferPointer { xp in
        logits.withUnsafeMutableBufferPointer { zp in
            let z = zp.baseAddress!
            for i in 0..<n { (z + i * c).update(from: b, count: c) }
            // Z = X W + 1 b'  ([N, D] x [D, C])
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(c), Int32(d),
                        1, xp.baseAddress!, Int32(d), w, Int32(c), 1, z, Int32(c))
            // Row softmax in place: Z <- (P - Y) / N, accumulate the cross-entropy.
            let invN = 1 / Double(n)
            for i in 0..<c { gb[i] = 0 }
            for i in 0..<n {
                let row = z + i * c
                var mx = row[0]
                for j in 1..<c { mx = max(mx, row[j]) }
                let y = labels[i]
                let zy = row[y] - mx
                var sum = 0.0
                for j in 0..<c {
                    let e = exp(row[j] - mx)
                    row[j] = e
                    sum += e
                }
                loss += log(sum) - zy  // logsumexp(z) - z_y, both shifted by max(z) (no overflow or log(0))
                let inv = 1 / sum
                for j in 0..<c {
                    row[j] *= inv * invN
                    if j == y { row[j] -= invN }
                    gb[j] += row[j]
                }
            }
            // dW = X' (P - Y) / N + l2 W  ([D, N] x [N, C])
            gw.update(from: w, count: d * c)
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(c), Int32(n),
                        1, xp.baseAddress!, Int32(d), z, Int32(c), l2, gw, Int32(c))
        }}
        let ww = cblas_ddot(Int32(d * c), w, 1, w, 1)
        return loss / Double(n) + 0.5 * l2 * ww
    }
}

/// Settings of the linear probe (defaults: the PyTorch reference's).
public struct LinearProbeOptions: Sendable {
    /// L2 coefficient on W: the loss adds (l2 / 2) ||W||^2.
    public var l2: Double = 1e-4
    /// L-BFGS settings; the reference uses 500 iterations, gradient tolerance 1e-9, change
    /// tolerance 1e-12. It keeps 50 pairs; 20 are kept here (the problem is strictly convex, so
    /// the optimum is the same; the path to it differs slightly).
    public var optimizer: LBFGSOptions = LBFGSOptions()

    public init(l2: Double = 1e-4, maxIterations: Int = 500, history: Int = 20) {
        self.l2 = l2
        optimizer.maxIterations = maxIterations
        optimizer.history = history
    }
}

/// A fitted linear probe: standardisation + softmax regression.
public struct LinearProbeModel: Sendable {
    public var standardizer: FeatureStandardizer
    /// W [D, C] row-major.
    public var weights: [Double]
    /// b [C].
    public var bias: [Double]
    public var classCount: Int
    public var featureCount: Int { standardizer.mean.count }

    /// Logits [M, C] (row-major) of raw features [M, D].
    public func logits(_ features: Tensor) -> [Double] {
        let x = standardizer.apply(features)
        let m = features.shape[0], d = featureCount, c = classCount
        var z = [Double](repeating: 0, count: m * c)
        for i in 0..<m { for j in 0..<c { z[i * c + j] = bias[j] } }
        if m > 0 {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(c), Int32(d),
                        1, x, Int32(d), weights, Int32(c), 1, &z, Int32(c))
        }
        return z
    }

    /// Predicted classes (arg-max logit, ties to the lower index).
    public func predict(_ features: Tensor) -> [Int] {
        let z = logits(features), c = classCount
        return (0..<features.shape[0]).map { i in
            var best = 0
            for j in 1..<c where z[i * c + j] > z[i * c + best] { best = j }
            return best
        }
    }

    /// Top-1 / top-5 accuracy (percent) on `features` [M, D] with `labels`.
    public func evaluate(_ features: Tensor, labels: [Int]) throws -> ClassificationAccuracy {
        try LinearProbe.checkLabels(features, labels, classCount: classCount, what: "linear probe evaluation")
        let z = logits(features)
        return z.withUnsafeBufferPointer { ClassificationAccuracy.of(scores: $0, labels: labels, classCount: classCount) }
    }
}

/// The outcome of `LinearProbe.run`.
public struct LinearProbeResult: Sendable {
    public var model: LinearProbeModel
    /// Accuracy on the training split (percent).
    public var train: ClassificationAccuracy
    /// Accuracy on the evaluation split (percent), when one was given.
    public var evaluation: ClassificationAccuracy?
    /// Final objective value (mean cross-entropy + (l2 / 2) ||W||^2) on the training split.
    public var loss: Double
    public var optimizer: LBFGSResult
    public var seconds: Double
}

public enum LinearProbe {
    /// Fits the probe on `features` [N, D] with `labels` (classCount defaults to max label + 1).
    /// `progress` is called after every L-BFGS iteration (the CLI draws a progress bar with it).
    public static func fit(
        features: Tensor, labels: [Int], classCount: Int? = nil, options: LinearProbeOptions = LinearProbeOptions(),
        progress: ((LBFGSProgress) -> Void)? = nil
    ) throws -> (model: LinearProbeModel, optimizer: LBFGSResult) {
        precondition(features.shape.count == 2, "LinearProbe: features must be [N, D], got \(features.shape)")
        guard !labels.isEmpty else { throw EvaluationError.empty("linear probe training") }
        let classes = classCount ?? ((labels.max() ?? 0) + 1)
        try checkLabels(features, labels, classCount: classes, what: "linear probe training")
        let standardizer = FeatureStandardizer(fitting: features)
        let d = features.shape[1]
        let objective = SoftmaxRegressionObjective(
            features: standardizer.apply(features), labels: labels, featureCount: d, classCount: classes, l2: options.l2)
        let result = LBFGS.minimize(
            from: [Double](repeating: 0, count: objective.parameterCount), options: options.optimizer,
            progress: progress
        ) { theta, grad in objective.evaluate(theta, gradient: grad) }
        let model = LinearProbeModel(
            standardizer: standardizer, weights: Array(result.x[0..<d * classes]),
            bias: Array(result.x[(d * classes)...]), classCount: classes)
        return (model, result)
    }

    /// Fits on the training split and reports top-1 / top-5 on it and on the evaluation split.
    public static func run(
        trainFeatures: Tensor, trainLabels: [Int], evalFeatures: Tensor? = nil, evalLabels: [Int]? = nil,
        classCount: Int? = nil, options: LinearProbeOptions = LinearProbeOptions(),
        progress: ((LBFGSProgress) -> Void)? = nil
    ) throws -> LinearProbeResult {
        let start = Date()
        let (model, opt) = try fit(features: trainFeatures, labels: trainLabels, classCount: classCount,
                                   options: options, progress: progress)
        let train = try model.evaluate(trainFeatures, labels: trainLabels)
        var evaluation: ClassificationAccuracy? = nil
        if let evalFeatures, let evalLabels {
            evaluation = try model.evaluate(evalFeatures, labels: evalLabels)
        }
        return LinearProbeResult(model: model, train: train, evaluation: evaluation, loss: opt.loss, optimizer: opt,
                                 seconds: Date().timeIntervalSince(start))
    }

    static func checkLabels(_ features: Tensor, _ labels: [Int], classCount: Int, what: String) throws {
        precondition(features.shape.count == 2, "\(what): features must be [N, D], got \(features.shape)")
        guard features.shape[0] == labels.count else {
            throw EvaluationError.countMismatch(what: what, features: features.shape[0], labels: labels.count)
        }
        for (i, y) in labels.enumerated() where y < 0 || y >= classCount {
            throw EvaluationError.labelOutOfRange(what: what, index: i, label: y, classCount: classCount)
        }
    }
}
