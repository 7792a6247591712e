// kNN monitor: a hand-checkable vote, the brute-force definition on random data, block sizes.
import Foundation
import SimCLR
import TensorCore
import TestSupport
import XCTest

final class KNNTests: XCTestCase {
    /// The definition, in plain loops: cosine similarities, full sort, exp(s / T) votes.
    func bruteForceScores(bank: Tensor, labels: [Int], queries: Tensor, k: Int, t: Double, classes: Int) -> [[Double]] {
        let n = bank.shape[0], d = bank.shape[1]
        func norm(_ x: Tensor, _ r: Int) -> [Double] {
            let v = (0..<d).map { Double(x[r * d + $0]) }
            let l = max(v.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-12)
            return v.map { $0 / l }
        }
        let b = (0..<n).map { norm(bank, $0) }
        return (0..<queries.shape[0]).map { qi in
            let q = norm(queries, qi)
            let sims = b.map { row in zip(row, q).map { $0 * $1 }.reduce(0, +) }
            let nearest = sims.indices.sorted { sims[$0] > sims[$1] }.prefix(k)
            var s = [Double](repeating: 0, count: classes)
            for j in nearest { s[labels[j]] += exp(sims[j] / t) }
            let total = s.reduce(0, +)
            return s.map { $0 / total }
        }
    }

    func testHandCheckableVote() throws {
        // Bank on the unit circle: angles 0, 10, 20 degrees (class 0) and 90, 100 degrees (class 1).
        let angles: [Double] = [0, 10, 20, 90, 100]
        var coordinates: [Float] = []
        for a in angles { coordinates += [Float(cos(a * Double.pi / 180)), Float(sin(a * Double.pi / 180))] }
        let bank = Tensor(shape: [5, 2], values: coordinates)
        let knn = try KNNClassifier(features: bank, labels: [0, 0, 0, 1, 1])
        // Query at 60 degrees (length 3: normalised away), k = 2: neighbours at 90 (class 1, cos 30deg)
        // and 20 (class 0, cos 40deg); class 1 wins with weight exp(cos 30 / 0.1) vs exp(cos 40 / 0.1).
        let q = Tensor(shape: [1, 2], values: [Float(3 * cos(Double.pi / 3)), Float(3 * sin(Double.pi / 3))])
        let s = knn.scores(q, k: 2, temperature: 0.1)
        let w1: Double = exp(cos(30 * Double.pi / 180) / 0.1)
        let w0: Double = exp(cos(40 * Double.pi / 180) / 0.1)
        XCTAssertEqual(s[0], w0 / (w0 + w1), accuracy: 1e-5)
        XCTAssertEqual(s[1], w1 / (w0 + w1), accuracy: 1e-5)
        XCTAssertEqual(knn.predict(q, k: 2), [1])
        // k = 5: three class-0 votes outweigh two class-1 votes at T = 1 but not at T = 0.01.
        XCTAssertEqual(knn.predict(q, k: 5, temperature: 1), [0])
        XCTAssertEqual(knn.predict(q, k: 5, temperature: 0.01), [1])
        let acc = try knn.evaluate(q, labels: [0], k: 2)
        XCTAssertEqual(acc.top1, 0)
        XCTAssertEqual(acc.top5, 100, "two classes: the true class is always in the top 5")
    }

    func testMatchesBruteForceOnRandomData() throws {
        var rng = TestRNG(seed: 42)
        let n = 300, m = 37, d = 12, classes = 7
        let bank = rng.tensor([n, d])
        let labels = (0..<n).map { _ in Int(rng.next() % UInt64(classes)) }
        let queries = rng.tensor([m, d])
        let knn = try KNNClassifier(features: bank, labels: labels, classCount: classes)
        for (k, t) in [(1, 0.1), (20, 0.1), (200, 0.1), (300, 0.5), (500, 0.07)] {
            let expected = bruteForceScores(bank: bank, labels: labels, queries: queries, k: min(k, n), t: t,
                                            classes: classes)
            // Small blocks force several query blocks and bank blocks, and ragged last blocks.
            for (qb, bb) in [(256, 8192), (5, 17), (1, 64)] {
                let s = knn.scores(queries, k: k, temperature: Float(t), queryBlock: qb, bankBlock: bb)
                // Similarities come from float32 sgemm (error ~1e-7), amplified by 1/T in the exponent.
                assertClose(s.map(Float.init), expected.flatMap { $0 }.map(Float.init), rtol: 2e-5, atol: 2e-6,
                            "k \(k) T \(t) blocks \(qb)x\(bb)")
            }
        }
    }

    func testThreadedSelectionMatchesBruteForce() throws {
        // 64 x 2,000 similarity blocks are split over the compute threads (>= 2^16 entries).
        var rng = TestRNG(seed: 8)
        let n = 2000, m = 64, d = 6, classes = 10
        let bank = rng.tensor([n, d])
        let labels = (0..<n).map { _ in Int(rng.next() % UInt64(classes)) }
        let queries = rng.tensor([m, d])
        let knn = try KNNClassifier(features: bank, labels: labels, classCount: classes)
        let expected = bruteForceScores(bank: bank, labels: labels, queries: queries, k: 200, t: 0.1, classes: classes)
        for threads in [1, 2, 3] {
            let saved = ComputeThreads.current
            ComputeThreads.set(threads)
            defer { ComputeThreads.set(saved) }
            let s = knn.scores(queries, k: 200, temperature: 0.1, queryBlock: 64, bankBlock: 1024)
            assertClose(s.map(Float.init), expected.flatMap { $0 }.map(Float.init), rtol: 2e-5, atol: 2e-6,
                        "\(threads) threads")
        }
    }

    func testTopOneAndTopFiveAgainstBruteForceRanking() throws {
        var rng = TestRNG(seed: 9)
        let n = 200, m = 60, d = 8, classes = 10
        let bank = rng.tensor([n, d])
        let labels = (0..<n).map { _ in Int(rng.next() % UInt64(classes)) }
        let queries = rng.tensor([m, d])
        let qLabels = (0..<m).map { _ in Int(rng.next() % UInt64(classes)) }
        let knn = try KNNClassifier(features: bank, labels: labels, classCount: classes)
        let acc = try knn.evaluate(queries, labels: qLabels, k: 25, temperature: 0.1)
        let s = bruteForceScores(bank: bank, labels: labels, queries: queries, k: 25, t: 0.1, classes: classes)
        var c1 = 0, c5 = 0
        for i in 0..<m {
            let order = (0..<classes).sorted { s[i][$0] > s[i][$1] || (s[i][$0] == s[i][$1] && $0 < $1) }
            if order[0] == qLabels[i] { c1 += 1 }
            if order.prefix(5).contains(qLabels[i]) { c5 += 1 }
        }
        XCTAssertEqual(acc.top1, 100 * Double(c1) / Double(m), accuracy: 1e-9)
        XCTAssertEqual(acc.top5, 100 * Double(c5) / Double(m), accuracy: 1e-9)
        XCTAssertEqual(acc.count, m)
        XCTAssertGreaterThan(acc.top5, acc.top1)
    }

    func testClusteredDataIsClassified() throws {
        // Classes along orthogonal directions: every query finds its class.
        var rng = TestRNG(seed: 3)
        func sample(_ n: Int) -> (Tensor, [Int]) {
            let x = Tensor(shape: [n, 6])
            for i in 0..<n { for k in 0..<6 { x[i * 6 + k] = rng.uniform(-0.2, 0.2) + (k == i % 4 ? 1 : 0) } }
            return (x, (0..<n).map { $0 % 4 })
        }
        let (bank, labels) = sample(400), (q, ql) = sample(50)
        let acc = try KNNClassifier(features: bank, labels: labels).evaluate(q, labels: ql)
        XCTAssertEqual(acc.top1, 100)
    }

    func testBadLabelsAreRefused() {
        let x = Tensor(shape: [2, 2], values: [1, 0, 0, 1])
        XCTAssertThrowsError(try KNNClassifier(features: x, labels: [0, -1])) { error in
            XCTAssertTrue(error.localizedDescription.contains("label -1 at index 1"), error.localizedDescription)
        }
        XCTAssertThrowsError(try KNNClassifier(features: x, labels: [0])) { error in
            XCTAssertTrue(error.localizedDescription.contains("2 feature rows but 1 labels"))
        }
        let knn = try! KNNClassifier(features: x, labels: [0, 1])
        XCTAssertThrowsError(try knn.evaluate(x, labels: [0, 2]))
    }
}
