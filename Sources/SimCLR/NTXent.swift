// NT-Xent: the normalised temperature-scaled cross-entropy of SimCLR (Chen et al., ICML 2020,
// eq. 1 and Algorithm 1), with its analytic gradient and the contrastive top-1 / top-5 accuracy
// that PyTorch SimCLR implementations log.
//
// Input layout (fixed across the project): z is a plain [V*N, D] tensor of V views of N images,
// row v*N + i being view v of image i. Rows are L2-normalised inside, so the caller passes the
// projection head's raw output. The loss is the mean over all V*N anchors (the paper's 1/(2N)
// scale for V = 2), not the official TF code's sum of two directional means (2x).
//
// Cost per call: two sgemm for the similarity matrix and the backward (O(M^2 D), M = V*N) and
// O(M^2) elementwise work for the row softmaxes, split over rows across the compute threads.
// Work buffers are kept between calls and reallocated only when M or D changes.

import CBLAS
import Dispatch
import Foundation
import TensorCore

/// A refused NT-Xent configuration or input.
public enum NTXentError: LocalizedError, Equatable {
    case invalidTemperature(Float)
    case invalidViews(Int)
    case invalidShape(shape: [Int], views: Int)
    case gradientShapeMismatch(gradient: [Int], input: [Int])

    public var errorDescription: String? {
        switch self {
        case .invalidTemperature(let t):
            return "NT-Xent: temperature must be a finite number > 0 (got \(t))"
        case .invalidViews(let v):
            return "NT-Xent: views must be >= 2 (got \(v)); SimCLR uses 2 views per image"
        case .invalidShape(let shape, let views):
            return "NT-Xent: z has shape \(shape); expected a 2-D [V*N, D] tensor with V = \(views) views, "
                + "N >= 2 images and D >= 1 (rows a multiple of \(views), at least \(2 * views))"
        case .gradientShapeMismatch(let g, let z):
            return "NT-Xent: gradient tensor has shape \(g); expected the shape of z, \(z)"
        }
    }
}

/// The outcome of one NT-Xent evaluation.
public struct NTXentResult: Sendable, Equatable {
    /// Mean loss over the V*N anchors.
    public var loss: Float
    /// Fraction of anchors whose highest-scoring other row is one of their positives.
    public var top1: Float
    /// Fraction of anchors with a positive among their 5 highest-scoring other rows.
    public var top5: Float
}

/// NT-Xent loss over V >= 2 views of N images, with analytic backward.
///
/// With u_a = z_a / max(||z_a||, 1e-12), logits l_ab = u_a . u_b / tau for b != a (self masked out),
/// and P(a) the V-1 other views of anchor a's image:
///
///     L = 1/(V N) * sum_a 1/(V-1) * sum_{p in P(a)} -log( exp(l_ap) / sum_{b != a} exp(l_ab) )
///
/// For V = 2 this is exactly the paper's eq. 1 averaged over the 2N anchors (Algorithm 1).
/// Log-sum-exp is taken after subtracting each row's maximum, so any temperature is stable.
///
/// Gradient: with G_ab = (softmax_a(b) - [b in P(a)]/(V-1)) / (V N) (and G_aa = 0),
/// dL/dU = (G + G^T) U / tau and dL/dz_a = (dU_a - (dU_a . u_a) u_a) / ||z_a||.
///
/// Accuracy (per anchor a, over the V*N - 1 other rows): let s* be the highest logit of a's
/// positives and k the number of negatives (rows of other images) with a logit >= s*. Top-1 is a
/// hit when k = 0, top-5 when k < 5: "a positive is ranked first / within the first 5". Ties
/// count against the positive, so a collapsed embedding (all rows equal) scores 0, not 1.
/// For V = 2 this is the usual `topk` accuracy of PyTorch SimCLR implementations.
///
/// Not thread-safe: one instance per training loop (it owns its work buffers).
public final class NTXentLoss {
    /// The softmax temperature tau (> 0).
    public let temperature: Float
    /// Views per image V (>= 2).
    public let views: Int

    // Work buffers, sized for the last (M, D).
    private var rows = 0
    private var dim = 0
    private var unit: UnsafeMutablePointer<Float>?       // [M, D] normalised rows u
    private var norms: UnsafeMutablePointer<Float>?      // [M] max(||z_a||, eps)
    private var matrix: UnsafeMutablePointer<Float>?     // [M, M] similarities -> G
    private var unitGrad: UnsafeMutablePointer<Float>?   // [M, D] dL/dU
    private var rowLoss: UnsafeMutablePointer<Double>?   // [M] per-anchor loss
    private var rowRank: UnsafeMutablePointer<Int32>?    // [M] negatives ranked at or above the best positive

    /// Norm floor of the L2 normalisation (as torch.nn.functional.normalize).
    static let normEpsilon: Float = 1e-12

    /// Creates the loss; throws `NTXentError` for temperature <= 0 (or not finite) or views < 2.
    public init(temperature: Float, views: Int = 2) throws {
        guard temperature > 0, temperature.isFinite else { throw NTXentError.invalidTemperature(temperature) }
        guard views >= 2 else { throw NTXentError.invalidViews(views) }
        self.temperature = temperature
        self.views = views
    }

    deinit { release() }

    private func release() {
        unit?.deallocate(); norms?.deallocate(); matrix?.deallocate(); unitGrad?.deallocate()
        rowLoss?.deallocate(); rowRank?.deallocate()
        unit = nil; norms = nil; matrix = nil; unitGrad = nil; rowLoss = nil; rowRank = nil
    }

    private func reserve(rows m: Int, dim d: Int) {
        if m == rows && d == dim && unit != nil { return }
        release()
        unit = .allocate(capacity: m * d)
        norms = .allocate(capacity: m)
        matrix = .allocate(capacity: m * m)
        unitGrad = .allocate(capacity: m * d)
        rowLoss = .allocate(capacity: m)
        rowRank = .allocate(capacity: m)
        rows = m
        dim = d
    }

    /// Loss and accuracy of z [V*N, D]; when `gradient` (same shape as z) is given, dL/dz is
    /// written into it (overwritten, not accumulated).
    ///
    /// Throws `NTXentError` when z is not [V*N, D] with N >= 2, D >= 1, or the gradient's shape differs.
    @discardableResult
    public func callAsFunction(_ z: Tensor, gradient: Tensor? = nil) throws -> NTXentResult {
        guard z.shape.count == 2, z.shape[1] >= 1, z.shape[0] % views == 0, z.shape[0] / views >= 2 else {
            throw NTXentError.invalidShape(shape: z.shape, views: views)
        }
        if let g = gradient, g.shape != z.shape {
            throw NTXentError.gradientShapeMismatch(gradient: g.shape, input: z.shape)
        }
        let m = z.shape[0], d = z.shape[1]
        reserve(rows: m, dim: d)
        let u = unit!, r = norms!, s = matrix!

        normalizeRows(z.data, into: u, norms: r, rows: m, dim: d)

        // S = U U^T (M x M); the 1/tau scale is folded into the row pass.
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(m), Int32(d),
            1, u, Int32(d), u, Int32(d), 0, s, Int32(m))

        // Row pass: per-anchor loss, rank of the best positive, and G in place of S.
        let pass = RowPass(
            matrix: s, rowLoss: rowLoss!, rowRank: rowRank!, rows: m, images: m / views, views: views,
            temperature: temperature)
        let chunkCount = min(max(1, ComputeThreads.current), max(1, m * m / 65_536))
        if chunkCount == 1 {
            pass.run(0..<m)
        } else {
            let per = (m + chunkCount - 1) / chunkCount
            DispatchQueue.concurrentPerform(iterations: chunkCount) { c in
                let lo = c * per, hi = min(m, lo + per)
                if lo < hi { pass.run(lo..<hi) }
            }
        }

        var total = 0.0
        var hit1 = 0, hit5 = 0
        for a in 0..<m {
            total += rowLoss![a]
            let k = rowRank![a]
            if k == 0 { hit1 += 1 }
            if k < 5 { hit5 += 1 }
        }
        let result = NTXentResult(
            loss: Float(total / Double(m)), top1: Float(hit1) / Float(m), top5: Float(hit5) / Float(m))

        if let g = gradient { backward(into: g.data, rows: m, dim: d) }
        return result
    }

    /// u_a = z_a / max(||z_a||, eps), norms[a] = max(||z_a||, eps).
    private func normalizeRows(
        _ z: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, norms: UnsafeMutablePointer<Float>,
        rows m: Int, dim d: Int
    ) {
        for a in 0..<m {
            let zr = z + a * d, ur = u + a * d
            var sq: Float = 0
            for k in 0..<d { sq += zr[k] * zr[k] }
            let norm = max(sq.squareRoot(), NTXentLoss.normEpsilon)
            norms[a] = norm
            let inv = 1 / norm
            for k in 0..<d { ur[k] = zr[k] * inv }
        }
    }

    /// dL/dz from G (in `matrix`) and U.
    private func backward(into dz: UnsafeMutablePointer<Float>, rows m: Int, dim d: Int) {
        let u = unit!, g = matrix!, du = unitGrad!, r = norms!
        let invTau = 1 / temperature
        // dU = (G U + G^T U) / tau: l_ab depends on u_a and u_b.
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(d), Int32(m),
            invTau, g, Int32(m), u, Int32(d), 0, du, Int32(d))
        cblas_sgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(m), Int32(d), Int32(m),
            invTau, g, Int32(m), u, Int32(d), 1, du, Int32(d))
        // Through the normalisation: dz = (du - (du . u) u) / ||z|| (or du / eps below the floor).
        for a in 0..<m {
            let ur = u + a * d, gr = du + a * d, out = dz + a * d
            let inv = 1 / r[a]
            if r[a] <= NTXentLoss.normEpsilon {
                for k in 0..<d { out[k] = gr[k] * inv }
                continue
            }
            var dot: Float = 0
            for k in 0..<d { dot += gr[k] * ur[k] }
            for k in 0..<d { out[k] = (gr[k] - dot * ur[k]) * inv }
        }
    }
}

/// The softmax row pass of `NTXentLoss`, over disjoint row ranges (safe to run concurrently:
/// each anchor reads and writes only its own row of the matrix and its own output slots).
private struct RowPass: @unchecked Sendable {
    let matrix: UnsafeMutablePointer<Float>   // [M, M]: S on entry, G on exit
    let rowLoss: UnsafeMutablePointer<Double>
    let rowRank: UnsafeMutablePointer<Int32>
    let rows: Int
    let images: Int
    let views: Int
    let temperature: Float

    /// For each anchor a in `range`: turns row a of S into row a of G, and stores the anchor's
    /// loss and the number of negatives scoring at or above its best positive.
    /// Full-row passes run on 8-wide vectors (`vectorExp` for the softmax numerators).
    func run(_ range: Range<Int>) {
        typealias V = SIMD8<Float>
        let m = rows, n = images, v = views
        let invTau = 1 / temperature
        let posWeight = 1 / Float(v - 1)
        let invM = 1 / Float(m)
        let body = m - m % 8
        for a in range {
            let row = matrix + a * m
            let raw = UnsafeMutableRawPointer(row)
            let i = a % n, view = a / n
            // Logits, self masked out, and their maximum.
            for b in 0..<m { row[b] *= invTau }
            row[a] = -.infinity
            var vmax = V(repeating: -.infinity)
            var b = 0
            while b < body {
                vmax = pointwiseMax(vmax, raw.loadUnaligned(fromByteOffset: 4 * b, as: V.self))
                b += 8
            }
            var mx = vmax.max()
            while b < m { mx = max(mx, row[b]); b += 1 }
            // Positives: the other views of image i.
            var bestPos = -Float.infinity
            var posSum: Double = 0
            for w in 0..<v where w != view {
                let l = row[w * n + i]
                bestPos = max(bestPos, l)
                posSum += Double(l)
            }
            // Rows at or above the best positive, minus the positives among them.
            let vbest = V(repeating: bestPos)
            var vcount = SIMD8<Int32>()
            b = 0
            while b < body {
                let x = raw.loadUnaligned(fromByteOffset: 4 * b, as: V.self)
                vcount &+= SIMD8<Int32>().replacing(with: 1, where: x .>= vbest)
                b += 8
            }
            var atOrAbove = vcount.wrappedSum()
            while b < m { atOrAbove &+= row[b] >= bestPos ? 1 : 0; b += 1 }
            for w in 0..<v where w != view && row[w * n + i] >= bestPos { atOrAbove -= 1 }
            rowRank[a] = atOrAbove
            // Stable softmax numerators exp(l - max); self gets exactly 0.
            let vmx = V(repeating: mx)
            var vsum = V()
            b = 0
            while b < body {
                let e = vectorExp(raw.loadUnaligned(fromByteOffset: 4 * b, as: V.self) - vmx)
                raw.storeBytes(of: e, toByteOffset: 4 * b, as: V.self)
                vsum += e
                b += 8
            }
            var sum = vsum.sum()
            while b < m {
                var tail = V(repeating: -.infinity)
                for k in 0..<(m - b) { tail[k] = row[b + k] - mx }
                let e = vectorExp(tail)
                for k in 0..<(m - b) { row[b + k] = e[k]; sum += e[k] }
                b = m
            }
            sum -= row[a]
            row[a] = 0
            let lse = Double(mx) + log(Double(sum))
            rowLoss[a] = lse - posSum * Double(posWeight)
            // G_ab = (softmax_a(b) - [b positive]/(V-1)) / M.
            let scale = invM / sum
            for b in 0..<m { row[b] *= scale }
            for w in 0..<v where w != view { row[w * n + i] -= posWeight * invM }
        }
    }
}

/// e^x on 8 lanes, ~2 ulp relative error for x in [-87, 88]; inputs below -87 (including -inf)
/// give ~1e-38 instead of 0 and are handled by the caller.
/// Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, then a degree-7 Taylor polynomial for e^r
/// (truncation r^8/8! < 6e-9) and 2^k assembled in the exponent bits. Written with lane-wise
/// arithmetic only (no rounding or conversion calls) so that it compiles to vector instructions.
@inline(__always)
func vectorExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    typealias V = SIMD8<Float>
    let xc = pointwiseMin(pointwiseMax(x, V(repeating: -87)), V(repeating: 88))
    // Round x log2(e) to an integer k by adding 1.5 * 2^23: k lands in the low mantissa bits.
    let shifted = xc * 1.442_695_04 + 12_582_912
    let k = shifted - 12_582_912
    let r = (xc - k * 0.693_145_751_953_125) - k * 1.428_606_765_330_187e-6
    var p = V(repeating: 1 / 5040)
    p = p * r + 1 / 720
    p = p * r + 1 / 120
    p = p * r + 1 / 24
    p = p * r + 1 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let bits = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(bits, to: V.self)
}
