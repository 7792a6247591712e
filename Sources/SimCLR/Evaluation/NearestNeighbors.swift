// Nearest neighbours in representation space: for a query h_q, the bank rows h_j of highest
// cosine similarity
//
//     s_j = <h_q, h_j> / (max(||h_q||, 1e-12) max(||h_j||, 1e-12))
//
// best first (equal similarities: the lower bank index first). Queries [Q, d] against a bank
// [N, d] cost one sgemv per query and an O(N k) selection, for the few queries of a picture.
import CBLAS
import Foundation
import TensorCore

/// One neighbour of a query: its row in the bank and its cosine similarity to the query.
public struct Neighbor: Equatable, Sendable {
    public var index: Int
    public var similarity: Float

    public init(index: Int, similarity: Float) {
        self.index = index
        self.similarity = similarity
    }
}

public enum NearestNeighbors {
    /// The `k` most similar bank rows of each query row, best first.
    ///
    /// - Parameters:
    ///   - bank: [N, d] features.
    ///   - queries: [Q, d] features.
    ///   - excluding: per query, a bank row to leave out (the query itself when it is in the bank).
    /// - Returns: Q lists of min(k, available) neighbours.
    public static func search(bank: Tensor, queries: Tensor, k: Int, excluding: [Int?] = []) -> [[Neighbor]] {
        precondition(bank.shape.count == 2 && queries.shape.count == 2 && bank.shape[1] == queries.shape[1],
                     "NearestNeighbors: bank \(bank.shape), queries \(queries.shape)")
        precondition(k >= 1 && (excluding.isEmpty || excluding.count == queries.shape[0]), "NearestNeighbors: k \(k)")
        let n = bank.shape[0], d = bank.shape[1]
        let b = KNNClassifier.normalizedRows(bank), q = KNNClassifier.normalizedRows(queries)
        var similarity = [Float](repeating: 0, count: n)
        return (0..<queries.shape[0]).map { row in
            guard n > 0 else { return [] }
            similarity.withUnsafeMutableBufferPointer { s in
                // s = B q_row  ([n, d] x [d])
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(d), 1, b.data, Int32(d), q.data + row * d, 1, 0,
                            s.baseAddress!, 1)
            }
            let skip = excluding.isEmpty ? nil : excluding[row]
            return best(k, of: similarity, skipping: skip)
        }
    }

    /// The k largest entries of `similarity` (ties: lower index first), without `skipping`.
    /// NaN similarities rank last.
    static func best(_ k: Int, of similarity: [Float], skipping: Int?) -> [Neighbor] {
        func before(_ a: Neighbor, _ b: Neighbor) -> Bool {
            let x = a.similarity.isNaN ? -Float.infinity : a.similarity, y = b.similarity.isNaN ? -Float.infinity : b.similarity
            return x > y || (x == y && a.index < b.index)
        }
        var top: [Neighbor] = []
        top.reserveCapacity(k + 1)
        for (j, s) in similarity.enumerated() where j != skipping {
            let candidate = Neighbor(index: j, similarity: s)
            if top.count == k, !before(candidate, top[k - 1]) { continue }
            let at = top.firstIndex { before(candidate, $0) } ?? top.count
            top.insert(candidate, at: at)
            if top.count > k { top.removeLast() }
        }
        return top
    }
}
