// Weighted k-nearest-neighbour classification on frozen features: the kNN monitor of
// InstDisc (Wu et al., CVPR 2018) as used by SimCLR re-implementations and the lightly benchmarks.
// Features are L2-normalised; for a query q the k training features with the highest cosine
// similarity s_j vote for their class with weight exp(s_j / T); the class score is the sum of the
// weights of its neighbours, and the prediction ranks classes by score (k = 200, T = 0.1 by default).
//
// Cost: the similarities come from sgemm on blocks of queries x blocks of the feature bank, so an
// N x M similarity matrix never exists; each query row keeps its k best in a binary min-heap
// (O(N log k) per query, and most candidates are rejected by one comparison with the heap root).

import CBLAS
import Foundation
import TensorCore

/// A problem with evaluation inputs (labels, sizes); the message names the value and what was expected.
public enum EvaluationError: LocalizedError {
    case labelOutOfRange(what: String, index: Int, label: Int, classCount: Int)
    case countMismatch(what: String, features: Int, labels: Int)
    case empty(String)

    public var errorDescription: String? {
        switch self {
        case let .labelOutOfRange(what, index, label, classCount):
            return "\(what): label \(label) at index \(index) is outside 0..<\(classCount)"
        case let .countMismatch(what, features, labels):
            return "\(what): \(features) feature rows but \(labels) labels"
        case let .empty(what): return "\(what): no samples"
        }
    }
}

/// Top-1 and top-5 accuracy in percent over `count` samples.
public struct ClassificationAccuracy: Equatable, Sendable {
    public var top1: Double
    public var top5: Double
    public var count: Int

    public init(top1: Double, top5: Double, count: Int) {
        self.top1 = top1
        self.top5 = top5
        self.count = count
    }

    /// Accuracy of class-score rows against labels: `scores` is [count, classes] row-major; a sample
    /// counts for top-k if fewer than k classes score strictly higher than its true class
    /// (ties resolved in favour of the true class only if it has the lower index).
    static func of(scores: UnsafeBufferPointer<Double>, labels: [Int], classCount: Int) -> ClassificationAccuracy {
        var c1 = 0, c5 = 0
        for (i, y) in labels.enumerated() {
            let row = scores.baseAddress! + i * classCount
            let sy = row[y]
            var rank = 0
            for c in 0..<classCount where row[c] > sy || (row[c] == sy && c < y) { rank += 1 }
            if rank < 1 { c1 += 1 }
            if rank < 5 { c5 += 1 }
        }
        let n = Double(max(labels.count, 1))
        return ClassificationAccuracy(top1: 100 * Double(c1) / n, top5: 100 * Double(c5) / n, count: labels.count)
    }
}

/// Weighted kNN classifier over a bank of training features.
///
/// score_c(q) = sum over the k nearest bank rows j with label c of exp(cos(q, x_j) / T)
/// (InstDisc, Wu et al. 2018, eq. 7 with the kNN vote of their Sec. 3.4).
public struct KNNClassifier: @unchecked Sendable {
    /// L2-normalised bank [N, D].
    public let bank: Tensor
    public let labels: [Int]
    public let classCount: Int

    /// Copies and L2-normalises `features` [N, D] (rows x / max(||x||, 1e-12), as F.normalize).
    /// `classCount` defaults to max(label) + 1; labels outside 0..<classCount throw.
    public init(features: Tensor, labels: [Int], classCount: Int? = nil) throws {
        precondition(features.shape.count == 2, "KNNClassifier: features must be [N, D], got \(features.shape)")
        guard features.shape[0] == labels.count else {
            throw EvaluationError.countMismatch(what: "kNN bank", features: features.shape[0], labels: labels.count)
        }
        guard !labels.isEmpty else { throw EvaluationError.empty("kNN bank") }
        let classes = classCount ?? (labels.max()! + 1)
        for (i, y) in labels.enumerated() where y < 0 || y >= classes {
            throw EvaluationError.labelOutOfRange(what: "kNN bank", index: i, label: y, classCount: classes)
        }
        bank = Self.normalizedRows(features)
        self.labels = labels
        self.classCount = classes
    }

    /// A row-normalised copy of `x` [N, D].
    static func normalizedRows(_ x: Tensor) -> Tensor {
        let out = x.copy()
        let d = x.shape[1]
        for r in 0..<x.shape[0] {
            let row = out.data + r * d
            let norm = Double(cblas_snrm2(Int32(d), row, 1))
            cblas_sscal(Int32(d), Float(1 / max(norm, 1e-12)), row, 1)
        }
        return out
    }

    /// Class scores [M, classCount] (row-major, Double) of `queries` [M, D]: the vote sums,
    /// divided by their row total (so each row sums to 1; the ranking is that of the vote sums).
    ///
    /// - Parameters:
    ///   - k: neighbours per query (clamped to the bank size).
    ///   - temperature: T in exp(s / T).
    ///   - queryBlock, bankBlock: sizes of the similarity blocks computed by one sgemm
    ///     (memory queryBlock x bankBlock floats).
    public func scores(
        _ queries: Tensor, k: Int = 200, temperature: Float = 0.1, queryBlock: Int = 256, bankBlock: Int = 8192
    ) -> [Double] {
        precondition(queries.shape.count == 2 && queries.shape[1] == bank.shape[1],
                     "KNNClassifier: queries \(queries.shape) for a bank of dimension \(bank.shape[1])")
        precondition(k >= 1 && temperature > 0, "KNNClassifier: k \(k), temperature \(temperature)")
        let m = queries.shape[0], d = bank.shape[1], n = bank.shape[0]
        let k = min(k, n)
        let q = Self.normalizedRows(queries)
        var out = [Double](repeating: 0, count: m * classCount)
        let qb = max(1, min(queryBlock, m)), bb = max(1, min(bankBlock, n))
        // Per query of the block: a min-heap of its best k (similarity, bank index).
        let sim = UnsafeMutablePointer<Float>.allocate(capacity: qb * bb)
        let heapSim = UnsafeMutablePointer<Float>.allocate(capacity: qb * k)
        let heapIndex = UnsafeMutablePointer<Int32>.allocate(capacity: qb * k)
        let heapCount = UnsafeMutablePointer<Int>.allocate(capacity: qb)
        defer {
            sim.deallocate(); heapSim.deallocate(); heapIndex.deallocate(); heapCount.deallocate()
        }
        let invT = 1 / Double(temperature)
        let threads = max(1, ComputeThreads.current)
        out.withUnsafeMutableBufferPointer { out in
            for q0 in stride(from: 0, to: m, by: qb) {
                let rows = min(qb, m - q0)
                heapCount.update(repeating: 0, count: rows)
                for b0 in stride(from: 0, to: n, by: bb) {
                    let cols = min(bb, n - b0)
                    // sim[r, j] = <q_{q0+r}, bank_{b0+j}>  ([rows, d] x [cols, d]^T)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(cols), Int32(d),
                                1, q.data + q0 * d, Int32(d), bank.data + b0 * d, Int32(d), 0, sim, Int32(cols))
                    let select = HeapSelect(sim: sim, cols: cols, firstIndex: b0, k: k, heapSim: heapSim,
                                            heapIndex: heapIndex, heapCount: heapCount)
                    // Rows are independent: split them over the compute threads when the block is big.
                    let chunks = rows * cols >= 1 << 16 ? min(threads, rows) : 1
                    if chunks == 1 {
                        select.run(0..<rows)
                    } else {
                        let per = (rows + chunks - 1) / chunks
                        DispatchQueue.concurrentPerform(iterations: chunks) { c in
                            let lo = c * per, hi = min(rows, lo + per)
                            if lo < hi { select.run(lo..<hi) }
                        }
                    }
                }
                for r in 0..<rows {
                    let heapS = heapSim + r * k, heapI = heapIndex + r * k
                    let row = out.baseAddress! + (q0 + r) * classCount
                    // Subtract the best similarity before exp: same ranking, no overflow for small T.
                    var best = -Float.infinity
                    for t in 0..<k { best = max(best, heapS[t]) }
                    var total = 0.0
                    for t in 0..<k {
                        let w = exp(Double(heapS[t] - best) * invT)
                        row[labels[Int(heapI[t])]] += w
                        total += w
                    }
                    for c in 0..<classCount { row[c] /= total }
                }
            }
        }
        return out
    }

    /// Streams one similarity block [rows, cols] into the per-row top-k heaps. Rows touch disjoint
    /// heap slots, so distinct row ranges may run on different threads.
    struct HeapSelect: @unchecked Sendable {
        let sim: UnsafeMutablePointer<Float>
        let cols: Int
        let firstIndex: Int
        let k: Int
        let heapSim: UnsafeMutablePointer<Float>
        let heapIndex: UnsafeMutablePointer<Int32>
        let heapCount: UnsafeMutablePointer<Int>

        func run(_ rows: Range<Int>) {
            for r in rows {
                let s = sim + r * cols
                let heapS = heapSim + r * k, heapI = heapIndex + r * k
                var count = heapCount[r]
                var j = 0
                while count < k && j < cols {  // fill the heap
                    KNNClassifier.heapPush(heapS, heapI, &count, s[j], Int32(firstIndex + j))
                    j += 1
                }
                var root = heapS[0]
                while j < cols {
                    if s[j] > root {  // most candidates stop at this comparison
                        KNNClassifier.heapReplaceRoot(heapS, heapI, count, s[j], Int32(firstIndex + j))
                        root = heapS[0]
                    }
                    j += 1
                }
                heapCount[r] = count
            }
        }
    }

    /// Predicted classes of `queries` [M, D] (highest vote sum; ties go to the lower class index).
    public func predict(_ queries: Tensor, k: Int = 200, temperature: Float = 0.1) -> [Int] {
        let s = scores(queries, k: k, temperature: temperature)
        return (0..<queries.shape[0]).map { i in
            var best = 0
            for c in 1..<max(classCount, 1) where s[i * classCount + c] > s[i * classCount + best] { best = c }
            return best
        }
    }

    /// Top-1 / top-5 accuracy (percent) of `queries` [M, D] against `labels`.
    public func evaluate(
        _ queries: Tensor, labels queryLabels: [Int], k: Int = 200, temperature: Float = 0.1
    ) throws -> ClassificationAccuracy {
        guard queries.shape[0] == queryLabels.count else {
            throw EvaluationError.countMismatch(what: "kNN queries", features: queries.shape[0], labels: queryLabels.count)
        }
        guard !queryLabels.isEmpty else { throw EvaluationError.empty("kNN queries") }
        for (i, y) in queryLabels.enumerated() where y < 0 || y >= classCount {
            throw EvaluationError.labelOutOfRange(what: "kNN queries", index: i, label: y, classCount: classCount)
        }
        let s = scores(queries, k: k, temperature: temperature)
        return s.withUnsafeBufferPointer { ClassificationAccuracy.of(scores: $0, labels: queryLabels, classCount: classCount) }
    }

    // MARK: Min-heap on (similarity, index), root = smallest similarity kept.

    @inline(__always)
    static func heapPush(_ s: UnsafeMutablePointer<Float>, _ idx: UnsafeMutablePointer<Int32>, _ count: inout Int,
                         _ v: Float, _ i: Int32) {
        var c = count
        count += 1
        while c > 0 {
            let p = (c - 1) / 2
            if s[p] <= v { break }
            s[c] = s[p]; idx[c] = idx[p]
            c = p
        }
        s[c] = v; idx[c] = i
    }

    @inline(__always)
    static func heapReplaceRoot(_ s: UnsafeMutablePointer<Float>, _ idx: UnsafeMutablePointer<Int32>, _ count: Int,
                                _ v: Float, _ i: Int32) {
        var c = 0
        while true {
            let l = 2 * c + 1
            if l >= count { break }
            var child = l
            if l + 1 < count && s[l + 1] < s[l] { child = l + 1 }
            if s[child] >= v { break }
            s[c] = s[child]; idx[c] = idx[child]
            c = child
        }
        s[c] = v; idx[c] = i
    }
}
