// Linear probe: standardisation, the objective's gradient, L-BFGS on a known function, and the
// fitted regression against an independent scipy / PyTorch solution (tools/make_eval_fixtures.py).
import Foundation
import SimCLR
import TensorCore
import TestSupport
import XCTest

final class LinearProbeTests: XCTestCase {
    func testStandardizerUsesTrainStatisticsWithUnbiasedStd() {
        let x = Tensor(shape: [4, 2], values: [1, 5, 2, 5, 3, 5, 6, 5])
        let s = FeatureStandardizer(fitting: x)
        XCTAssertEqual(s.mean, [3, 5])
        XCTAssertEqual(s.std[0], (14.0 / 3).squareRoot(), accuracy: 1e-12)  // sum of squares 14, N - 1 = 3
        XCTAssertEqual(s.std[1], 1e-8, "constant feature: std clamped at 1e-8")
        let other = Tensor(shape: [1, 2], values: [3, 5])
        XCTAssertEqual(s.apply(other), [0, 0], "evaluation features use the train mean / std")
    }

    func testObjectiveGradientMatchesCentralDifferences() {
        var rng = TestRNG(seed: 11)
        let n = 13, d = 4, c = 3
        let x = (0..<n * d).map { _ in Double(rng.uniform(-2, 2)) }
        let labels = (0..<n).map { $0 % c }
        let obj = SoftmaxRegressionObjective(features: x, labels: labels, featureCount: d, classCount: c, l2: 0.3)
        let theta = (0..<obj.parameterCount).map { _ in Double(rng.uniform(-1, 1)) }
        var grad = [Double](repeating: 0, count: obj.parameterCount)
        let f = theta.withUnsafeBufferPointer { t in grad.withUnsafeMutableBufferPointer { obj.evaluate(t, gradient: $0) } }
        // Loss by the definition, in plain loops.
        var direct = 0.0
        for i in 0..<n {
            var z = [Double](repeating: 0, count: c)
            for j in 0..<c {
                z[j] = theta[d * c + j]
                for k in 0..<d { z[j] += x[i * d + k] * theta[k * c + j] }
            }
            direct += log(z.map(exp).reduce(0, +)) - z[labels[i]]
        }
        direct = direct / Double(n) + 0.15 * theta[0..<d * c].map { $0 * $0 }.reduce(0, +)
        XCTAssertEqual(f, direct, accuracy: 1e-12)
        let h = 1e-6
        var scratch = grad
        for p in 0..<obj.parameterCount {
            var tp = theta, tm = theta
            tp[p] += h
            tm[p] -= h
            let fp = tp.withUnsafeBufferPointer { t in scratch.withUnsafeMutableBufferPointer { obj.evaluate(t, gradient: $0) } }
            let fm = tm.withUnsafeBufferPointer { t in scratch.withUnsafeMutableBufferPointer { obj.evaluate(t, gradient: $0) } }
            // Central difference error O(h^2 f''') ~ 1e-12, rounding ~ 1e-16 / h ~ 1e-10.
            XCTAssertEqual(grad[p], (fp - fm) / (2 * h), accuracy: 1e-8, "parameter \(p)")
        }
    }

    func testObjectiveIsFiniteForHugeLogits() {
        // z_y - max(z) = -2000: exp underflows to 0, the loss must still be 2000 (not infinity).
        let obj = SoftmaxRegressionObjective(features: [1], labels: [0], featureCount: 1, classCount: 2, l2: 0)
        let theta: [Double] = [-1000, 1000, 0, 0]
        var grad = [Double](repeating: 0, count: 4)
        let f = theta.withUnsafeBufferPointer { t in grad.withUnsafeMutableBufferPointer { obj.evaluate(t, gradient: $0) } }
        XCTAssertEqual(f, 2000, accuracy: 1e-9)
        XCTAssertEqual(grad, [-1, 1, -1, 1])
    }

    func testLBFGSMinimisesRosenbrock() {
        // f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1), a curved narrow valley.
        var iterations = 0
        let result = LBFGS.minimize(from: [-1.2, 1], progress: { _ in iterations += 1 }) { p, g in
            let x = p[0], y = p[1]
            g[0] = -2 * (1 - x) - 400 * x * (y - x * x)
            g[1] = 200 * (y - x * x)
            return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)
        }
        XCTAssertEqual(result.x[0], 1, accuracy: 1e-6)
        XCTAssertEqual(result.x[1], 1, accuracy: 1e-6)
        XCTAssertLessThan(result.loss, 1e-12)
        XCTAssertEqual(iterations, result.iterations, "one progress call per iteration")
        XCTAssertLessThan(result.iterations, 100)
        XCTAssertNotEqual(result.stop, .maxIterations)
    }

    func testLBFGSIterationLimit() {
        let result = LBFGS.minimize(from: [-1.2, 1], options: { var o = LBFGSOptions(); o.maxIterations = 3; o.maxEvaluations = 100; return o }()) {
            p, g in
            g[0] = -2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] * p[0])
            g[1] = 200 * (p[1] - p[0] * p[0])
            return (1 - p[0]) * (1 - p[0]) + 100 * (p[1] - p[0] * p[0]) * (p[1] - p[0] * p[0])
        }
        XCTAssertEqual(result.iterations, 3)
        XCTAssertEqual(result.stop, .maxIterations)
        XCTAssertLessThan(result.loss, 24.2, "f(-1.2, 1) = 24.2 must have decreased")
    }

    struct Fixture {
        let xTrain: Tensor, yTrain: [Int], xEval: Tensor, yEval: [Int]
        let tensors: [String: Tensor]
        let cases: [String: [String: Any]]
    }

    func loadFixture() throws -> Fixture {
        let t = try Fixtures.tensors("linear_probe")
        let meta = try Fixtures.json("linear_probe")["meta"] as! [String: Any]
        return Fixture(xTrain: t["x_train"]!, yTrain: t["y_train"]!.array.map { Int($0) }, xEval: t["x_eval"]!,
                       yEval: t["y_eval"]!.array.map { Int($0) }, tensors: t,
                       cases: meta["cases"] as! [String: [String: Any]])
    }

    func testMatchesScipyAndTorchSolution() throws {
        let fx = try loadFixture()
        let s = FeatureStandardizer(fitting: fx.xTrain)
        assertClose(s.mean.map(Float.init), fx.tensors["mean"]!.array, rtol: 1e-6, atol: 1e-6)
        assertClose(s.std.map(Float.init), fx.tensors["std"]!.array, rtol: 1e-6, atol: 0)
        for name in ["l2_small", "l2_large"] {
            let meta = fx.cases[name]!
            var progressCalls = 0
            let result = try LinearProbe.run(
                trainFeatures: fx.xTrain, trainLabels: fx.yTrain, evalFeatures: fx.xEval, evalLabels: fx.yEval,
                classCount: 5, options: LinearProbeOptions(l2: meta["l2"] as! Double)) { _ in progressCalls += 1 }
            XCTAssertEqual(progressCalls, result.optimizer.iterations)
            // The objective is strongly convex and both solvers stop with max |grad| ~ 1e-9, so the
            // optimal values agree to ~1e-12 (scipy vs torch: 4e-12); 1e-9 leaves room for our own
            // stopping rule (|f_new - f| < 1e-12 can stop slightly earlier than the gradient rule).
            XCTAssertEqual(result.loss, meta["loss"] as! Double, accuracy: 1e-9, "\(name): \(result.optimizer)")
            XCTAssertLessThan(result.optimizer.maxAbsGradient, 1e-6, name)
            XCTAssertEqual(result.train.top1, meta["train_top1"] as! Double, accuracy: 1e-9, name)
            XCTAssertEqual(result.train.top5, meta["train_top5"] as! Double, accuracy: 1e-9, name)
            XCTAssertEqual(result.evaluation!.top1, meta["eval_top1"] as! Double, accuracy: 1e-9, name)
            XCTAssertEqual(result.evaluation!.top5, meta["eval_top5"] as! Double, accuracy: 1e-9, name)
            // Predictions: the smallest top-2 logit margin is >= 1e-3 (in the fixture's meta), far
            // above the logit differences left by a 1e-9 loss gap.
            XCTAssertEqual(result.model.predict(fx.xTrain), fx.tensors["\(name)_train_pred"]!.array.map { Int($0) }, name)
            XCTAssertEqual(result.model.predict(fx.xEval), fx.tensors["\(name)_eval_pred"]!.array.map { Int($0) }, name)
        }
        // With l2 = 0.05 the Hessian's smallest eigenvalue is >= 0.05, so |W - W*| <= |grad| / 0.05:
        // the weights themselves match to the fixture's float32 rounding.
        // Without the loss-change rule the run goes on until rounding stops the line search
        // (max |g| ~ 1e-9), which pins the point down, the unpenalised bias included.
        var tight = LinearProbeOptions(l2: 0.05)
        tight.optimizer.changeTolerance = 0
        let (model, opt) = try LinearProbe.fit(features: fx.xTrain, labels: fx.yTrain, classCount: 5, options: tight)
        XCTAssertLessThan(opt.maxAbsGradient, 1e-8, "\(opt.stop)")
        assertClose(model.weights.map(Float.init), fx.tensors["l2_large_W"]!.array, rtol: 1e-5, atol: 1e-6)
        assertClose(model.bias.map(Float.init), fx.tensors["l2_large_b"]!.array, rtol: 1e-5, atol: 1e-6)
    }

    func testSeparableClassesAreLearnedPerfectly() throws {
        // Three well-separated clusters in 16 dimensions with a scaled, shifted nuisance feature.
        var rng = TestRNG(seed: 5)
        func sample(_ n: Int) -> (Tensor, [Int]) {
            let x = Tensor(shape: [n, 16])
            var y: [Int] = []
            for i in 0..<n {
                let c = i % 3
                y.append(c)
                for k in 0..<16 { x[i * 16 + k] = rng.uniform(-0.3, 0.3) + (k == c ? 3 : 0) }
                x[i * 16 + 15] = 1000 + 50 * rng.uniform()
            }
            return (x, y)
        }
        let (xt, yt) = sample(90), (xe, ye) = sample(30)
        let r = try LinearProbe.run(trainFeatures: xt, trainLabels: yt, evalFeatures: xe, evalLabels: ye)
        XCTAssertEqual(r.model.classCount, 3)
        XCTAssertEqual(r.train.top1, 100)
        XCTAssertEqual(r.evaluation!.top1, 100)
        XCTAssertEqual(r.evaluation!.top5, 100)
        XCTAssertLessThan(r.loss, 0.05)
    }

    func testBadLabelsAreRefused() {
        let x = Tensor(shape: [3, 2], values: [1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try LinearProbe.fit(features: x, labels: [0, 1, 7], classCount: 3)) { error in
            XCTAssertTrue(error.localizedDescription.contains("label 7 at index 2"), error.localizedDescription)
        }
        XCTAssertThrowsError(try LinearProbe.fit(features: x, labels: [0, 1])) { error in
            XCTAssertTrue(error.localizedDescription.contains("3 feature rows but 2 labels"))
        }
    }
}

/// Timing run at the reference's scale (40,000 x 128 train, 10,000 eval, 10 classes) on synthetic
/// features; skipped unless SIMCLR_EVAL_BENCH names a folder. Writes the features there as .npy
/// so tools/bench_eval_reference.py can run the PyTorch reference on the same data. No assertions
/// on time: it prints the numbers.
final class EvaluationBenchmark: XCTestCase {
    func testBenchmarkAtReferenceScale() throws {
        guard let dir = ProcessInfo.processInfo.environment["SIMCLR_EVAL_BENCH"] else {
            throw XCTSkip("set SIMCLR_EVAL_BENCH=<folder> to run")
        }
        let folder = URL(fileURLWithPath: dir)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var rng = TestRNG(seed: 1)
        let d = 128, classes = 10
        let means = rng.tensor([classes, d], -1, 1)
        func sample(_ n: Int) -> (Tensor, [Int]) {
            let x = Tensor(shape: [n, d])
            var y: [Int] = []
            for i in 0..<n {
                let c = Int(rng.next() % UInt64(classes))
                y.append(c)
                for k in 0..<d { x[i * d + k] = max(0, means[c * d + k] + 7 * rng.uniform(-1, 1)) }
            }
            return (x, y)
        }
        let (xt, yt) = sample(40_000), (xe, ye) = sample(10_000)
        try NPY.write(xt, to: folder.appendingPathComponent("train_h.npy"))
        try NPY.write(labels: yt, to: folder.appendingPathComponent("train_y.npy"))
        try NPY.write(xe, to: folder.appendingPathComponent("eval_h.npy"))
        try NPY.write(labels: ye, to: folder.appendingPathComponent("eval_y.npy"))
        func cpu() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) }  // process CPU time, all threads
        var cpuStart = cpu()
        var start = Date()
        let knn = try KNNClassifier(features: xt, labels: yt, classCount: classes).evaluate(xe, labels: ye)
        let knnSeconds = Date().timeIntervalSince(start), knnCPU = cpu() - cpuStart
        cpuStart = cpu()
        start = Date()
        let probe = try LinearProbe.run(trainFeatures: xt, trainLabels: yt, evalFeatures: xe, evalLabels: ye,
                                        classCount: classes)
        let probeSeconds = Date().timeIntervalSince(start), probeCPU = cpu() - cpuStart
        print(String(format: "BENCH knn top1 %.2f top5 %.2f in %.2f s (cpu %.2f s)", knn.top1, knn.top5, knnSeconds, knnCPU))
        print(String(format: "BENCH probe train %.2f eval top1 %.2f top5 %.2f loss %.8f iters %d evals %d stop %@ in %.2f s (cpu %.2f s)",
                     probe.train.top1, probe.evaluation!.top1, probe.evaluation!.top5, probe.loss,
                     probe.optimizer.iterations, probe.optimizer.evaluations, probe.optimizer.stop.rawValue,
                     probeSeconds, probeCPU))
    }
}
