// Limited-memory BFGS in Double precision with a strong-Wolfe line search, for the linear probe's
// full-batch logistic regression (a smooth, strongly convex problem with up to ~200k unknowns).
//
// Method (Nocedal & Wright, Numerical Optimization, 2nd ed.): Algorithm 7.4 (two-loop recursion)
// with the initial Hessian scaling gamma = s'y / y'y (eq. 7.20); Algorithms 3.5 / 3.6 (bracketing
// and zoom) for a step satisfying the strong Wolfe conditions
//     f(x + t d) <= f(x) + c1 t g'd      and      |g(x + t d)'d| <= c2 |g'd|,   c1 = 1e-4, c2 = 0.9,
// with trial steps from the minimiser of the cubic through the two bracket ends (eq. 3.59).
// Why strong Wolfe rather than backtracking Armijo: the curvature condition guarantees s'y > 0,
// so every (s, y) pair keeps the inverse-Hessian approximation positive definite and the full
// step t = 1 is accepted on almost every iteration; a backtracking search only shortens steps
// and would have to skip updates. It is also what the PyTorch reference uses
// (torch.optim.LBFGS(line_search_fn="strong_wolfe")), whose stopping rules are mirrored here:
// max |g| <= gradientTolerance, max |t d| <= changeTolerance, |f_new - f| < changeTolerance,
// the iteration limit and the evaluation limit (1.25 x iterations by default).

import CBLAS
import Foundation

/// Settings of `LBFGS.minimize`.
public struct LBFGSOptions: Sendable {
    /// Iteration limit (one iteration = one direction + one line search that moved x;
    /// `LBFGSResult.iterations` counts only those).
    public var maxIterations: Int = 500
    /// Objective evaluation limit; nil means maxIterations * 5 / 4 (as torch.optim.LBFGS).
    public var maxEvaluations: Int? = nil
    /// Number of (s, y) pairs kept.
    public var history: Int = 20
    /// Stop when max_i |g_i| <= this.
    public var gradientTolerance: Double = 1e-9
    /// Stop when max_i |t d_i| or |f_new - f| fall below this.
    public var changeTolerance: Double = 1e-12
    /// Sufficient-decrease and curvature constants of the strong Wolfe conditions.
    public var c1: Double = 1e-4
    public var c2: Double = 0.9
    /// Objective evaluations allowed in one line search.
    public var maxLineSearchEvaluations: Int = 25

    public init() {}
}

/// Why `LBFGS.minimize` stopped.
public enum LBFGSStop: String, Sendable {
    case gradientTolerance, stepTolerance, lossChangeTolerance, maxIterations, maxEvaluations, notDescent
}

/// The state after one L-BFGS iteration, for progress display.
public struct LBFGSProgress: Sendable {
    public var iteration: Int
    public var loss: Double
    public var maxAbsGradient: Double
    /// Step length t accepted by the line search.
    public var step: Double
    /// Objective evaluations so far.
    public var evaluations: Int
}

/// The result of `LBFGS.minimize`.
public struct LBFGSResult: Sendable {
    public var x: [Double]
    public var loss: Double
    public var maxAbsGradient: Double
    public var iterations: Int
    public var evaluations: Int
    public var stop: LBFGSStop
}

public enum LBFGS {
    /// Minimises `objective` from `x0`.
    ///
    /// - Parameter objective: called with the point x and a gradient buffer of the same length;
    ///   writes the gradient of f at x into the buffer and returns f(x).
    /// - Parameter progress: called after every iteration.
    public static func minimize(
        from x0: [Double], options: LBFGSOptions = LBFGSOptions(),
        progress: ((LBFGSProgress) -> Void)? = nil,
        objective: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Double
    ) -> LBFGSResult {
        let n = x0.count
        let n32 = Int32(n)
        let maxEvaluations = options.maxEvaluations ?? options.maxIterations * 5 / 4
        var x = x0
        var g = [Double](repeating: 0, count: n)
        var evaluations = 0
        func evaluate(_ point: [Double], _ grad: inout [Double]) -> Double {
            evaluations += 1
            return point.withUnsafeBufferPointer { p in grad.withUnsafeMutableBufferPointer { objective(p, $0) } }
        }
        func dot(_ a: [Double], _ b: [Double]) -> Double { cblas_ddot(n32, a, 1, b, 1) }
        func maxAbs(_ a: [Double]) -> Double { a.isEmpty ? 0 : abs(a[Int(cblas_idamax(n32, a, 1))]) }

        var f = evaluate(x, &g)
        var result = LBFGSResult(x: x, loss: f, maxAbsGradient: maxAbs(g), iterations: 0, evaluations: 1,
                                 stop: .gradientTolerance)
        if result.maxAbsGradient <= options.gradientTolerance { return result }

        // History ring buffers.
        let m = max(1, options.history)
        var sHist = [[Double]](), yHist = [[Double]](), rhoHist = [Double]()
        var alpha = [Double](repeating: 0, count: m)
        var d = [Double](repeating: 0, count: n)
        var xTrial = [Double](repeating: 0, count: n)
        var gTrial = [Double](repeating: 0, count: n)
        var iteration = 0
        var stop = LBFGSStop.maxIterations

        while iteration < options.maxIterations {
            iteration += 1
            // Direction d = -H g by the two-loop recursion (newest pair last in the arrays).
            for i in 0..<n { d[i] = -g[i] }
            let k = sHist.count
            if k > 0 {
                for j in stride(from: k - 1, through: 0, by: -1) {
                    alpha[j] = rhoHist[j] * dot(sHist[j], d)
                    cblas_daxpy(n32, -alpha[j], yHist[j], 1, &d, 1)
                }
                let gamma = dot(sHist[k - 1], yHist[k - 1]) / dot(yHist[k - 1], yHist[k - 1])
                cblas_dscal(n32, gamma, &d, 1)
                for j in 0..<k {
                    let beta = rhoHist[j] * dot(yHist[j], d)
                    cblas_daxpy(n32, alpha[j] - beta, sHist[j], 1, &d, 1)
                }
            }
            var gtd = dot(g, d)
            if !(gtd < 0) {  // lost descent (rounding): restart from steepest descent
                sHist.removeAll(); yHist.removeAll(); rhoHist.removeAll()
                for i in 0..<n { d[i] = -g[i] }
                gtd = dot(g, d)
            }
            if gtd > -options.changeTolerance { stop = .notDescent; iteration -= 1; break }
            // First step scaled so that the first move is at most 1 in the l1 sense (as torch).
            let t0 = iteration == 1 ? min(1, 1 / cblas_dasum(n32, g, 1)) : 1

            // Strong Wolfe line search along d. Points are (t, f, g'd) with the gradient kept alongside.
            var lsEvaluations = 0
            func trial(_ t: Double) -> (Double, Double) {
                for i in 0..<n { xTrial[i] = x[i] + t * d[i] }
                lsEvaluations += 1
                let ft = evaluate(xTrial, &gTrial)
                return (ft, dot(gTrial, d))
            }
            var accepted: (t: Double, f: Double, g: [Double])? = nil
            var prev = (t: 0.0, f: f, gtd: gtd, g: g)
            var t = t0
            var bracket: ((t: Double, f: Double, gtd: Double, g: [Double]), (t: Double, f: Double, gtd: Double, g: [Double]))? = nil
            while true {
                let (ft, gtdt) = trial(t)
                let cur = (t: t, f: ft, gtd: gtdt, g: gTrial)
                if ft > f + options.c1 * t * gtd || (lsEvaluations > 1 && ft >= prev.f) {
                    bracket = (prev, cur); break
                }
                if abs(gtdt) <= -options.c2 * gtd { accepted = (t, ft, gTrial); break }
                if gtdt >= 0 { bracket = (cur, prev); break }
                if lsEvaluations >= options.maxLineSearchEvaluations || evaluations >= maxEvaluations {
                    accepted = (t, ft, gTrial); break
                }
                // Extrapolate: cubic minimiser within [t + 0.01 (t - t_prev), 10 t].
                let next = cubicMinimizer(prev.t, prev.f, prev.gtd, t, ft, gtdt,
                                          lower: t + 0.01 * (t - prev.t), upper: 10 * t)
                prev = cur
                t = next
            }
            if accepted == nil, var (lo, hi) = bracket {
                // Zoom (N&W Algorithm 3.6): lo is the end with the lower f that satisfies sufficient decrease.
                if hi.f < lo.f { swap(&lo, &hi) }
                let dMax = maxAbs(d)
                while lsEvaluations < options.maxLineSearchEvaluations && evaluations < maxEvaluations {
                    if abs(hi.t - lo.t) * dMax < options.changeTolerance { break }
                    let a = min(lo.t, hi.t), b = max(lo.t, hi.t), w = b - a
                    var tj = cubicMinimizer(lo.t, lo.f, lo.gtd, hi.t, hi.f, hi.gtd, lower: a, upper: b)
                    tj = min(max(tj, a + 0.1 * w), b - 0.1 * w)  // keep shrinking the bracket
                    let (fj, gtdj) = trial(tj)
                    let cur = (t: tj, f: fj, gtd: gtdj, g: gTrial)
                    if fj > f + options.c1 * tj * gtd || fj >= lo.f {
                        hi = cur
                    } else {
                        if abs(gtdj) <= -options.c2 * gtd { lo = cur; break }
                        if gtdj * (hi.t - lo.t) >= 0 { hi = lo }
                        lo = cur
                    }
                }
                accepted = lo.t > 0 ? (lo.t, lo.f, lo.g) : nil
            }
            guard let step = accepted else { stop = .stepTolerance; iteration -= 1; break }  // no decrease found

            // Update x, the history and the gradient.
            var s = [Double](repeating: 0, count: n)
            for i in 0..<n { s[i] = step.t * d[i] }
            var y = step.g
            cblas_daxpy(n32, -1, g, 1, &y, 1)
            let ys = dot(y, s)
            if ys > 1e-10 {
                if sHist.count == m { sHist.removeFirst(); yHist.removeFirst(); rhoHist.removeFirst() }
                sHist.append(s); yHist.append(y); rhoHist.append(1 / ys)
            }
            cblas_daxpy(n32, 1, s, 1, &x, 1)
            let fOld = f
            f = step.f
            g = step.g
            let gMax = maxAbs(g)
            progress?(LBFGSProgress(iteration: iteration, loss: f, maxAbsGradient: gMax, step: step.t,
                                    evaluations: evaluations))
            if gMax <= options.gradientTolerance { stop = .gradientTolerance; break }
            if evaluations >= maxEvaluations { stop = .maxEvaluations; break }
            if maxAbs(s) <= options.changeTolerance { stop = .stepTolerance; break }
            if abs(f - fOld) < options.changeTolerance { stop = .lossChangeTolerance; break }
        }
        result = LBFGSResult(x: x, loss: f, maxAbsGradient: maxAbs(g), iterations: iteration,
                             evaluations: evaluations, stop: stop)
        return result
    }

    /// Minimiser of the cubic interpolating (t1, f1, f1') and (t2, f2, f2'), clamped to
    /// [lower, upper]; the midpoint of the bounds when the cubic has no minimiser
    /// (Nocedal & Wright eq. 3.59).
    static func cubicMinimizer(
        _ t1: Double, _ f1: Double, _ g1: Double, _ t2: Double, _ f2: Double, _ g2: Double,
        lower: Double, upper: Double
    ) -> Double {
        let d1 = g1 + g2 - 3 * (f1 - f2) / (t1 - t2)
        let disc = d1 * d1 - g1 * g2
        guard disc >= 0, t1 != t2 else { return (lower + upper) / 2 }
        let d2 = disc.squareRoot() * (t2 >= t1 ? 1 : -1)
        let t = t2 - (t2 - t1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        guard t.isFinite else { return (lower + upper) / 2 }
        return min(max(t, lower), upper)
    }
}
