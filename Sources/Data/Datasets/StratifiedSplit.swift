// A class-stratified, seeded held-out split of a labelled set of named items (the images of a
// folder, by relative path), the same for the same names and seed whatever order they are listed in.
//
// Within each class (unlabeled items form one class of their own) the items are ranked by
// rank(i) = MD5("seed|name_i") (then by name), and the first
//
//     held(c) = min(n_c - 1, max(1, round(fraction * n_c)))      (0 when n_c = 1)
//
// are held out. The ranks depend only on (seed, name), so the listing order never matters, and
// adding an image to a class moves at most the images near the cut. Every class with two images
// or more keeps at least one image on each side.
import Foundation

/// Indices of a set of items split into a training part and a held-out part, per class.
public struct StratifiedSplit: Equatable, Sendable {
    /// Indices of the training part, ascending.
    public var train: [Int]
    /// Indices of the held-out part, ascending.
    public var heldOut: [Int]

    /// Splits items `0 ..< names.count` with labels `labels` (nil: unlabeled), holding out
    /// about `fraction` of each class, chosen by `seed`.
    /// - Precondition: `labels.count == names.count`, `0 < fraction < 1`.
    public init(names: [String], labels: [Int?], fraction: Double, seed: UInt64) {
        precondition(labels.count == names.count, "StratifiedSplit: \(labels.count) labels for \(names.count) names")
        precondition(fraction > 0 && fraction < 1, "StratifiedSplit: fraction \(fraction)")
        var classes: [Int: [Int]] = [:]
        for (i, label) in labels.enumerated() { classes[label ?? -1, default: []].append(i) }
        var held: [Int] = []
        for members in classes.values {
            let n = members.count
            let count = n < 2 ? 0 : min(n - 1, max(1, Int((fraction * Double(n)).rounded())))
            let ranked = members.map { (key: Self.rank(names[$0], seed: seed), name: names[$0], index: $0) }
                .sorted { ($0.key, $0.name) < ($1.key, $1.name) }
            held += ranked.prefix(count).map(\.index)
        }
        let heldSet = Set(held)
        heldOut = held.sorted()
        train = (0..<names.count).filter { !heldSet.contains($0) }
    }

    /// The rank key of `name` under `seed`: the hex MD5 of "seed|name".
    static func rank(_ name: String, seed: UInt64) -> String { MD5.hex(Array("\(seed)|\(name)".utf8)) }
}
