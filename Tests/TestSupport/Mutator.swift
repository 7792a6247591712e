import TensorCore

/// Seeded mutations of a valid file, for the reader fuzz tests: the same seed gives the same
/// mutants. Each mutant is one of: flipped bits, inserted or deleted bytes, a truncation (at a
/// random point or at one of `boundaries`), a splice with `other`, or an 8-byte field at a
/// boundary overwritten with 0, -1, a huge or an overflowing value.
public struct Mutator {
    public var rng: TestRNG
    /// Offsets where a region of the format starts or ends (header length, header end, ...).
    public var boundaries: [Int]
    public var other: [UInt8]

    public init(seed: UInt64, boundaries: [Int] = [], other: [UInt8] = []) {
        rng = TestRNG(seed: seed)
        self.boundaries = boundaries
        self.other = other
    }

    private mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(rng.next() % UInt64(n)) }

    /// One mutant of `bytes`, and the name of the mutation (for failure messages).
    public mutating func mutate(_ bytes: [UInt8]) -> (bytes: [UInt8], kind: String) {
        var b = bytes
        switch below(7) {
        case 0:
            for _ in 0...below(8) where !b.isEmpty { b[below(b.count)] ^= UInt8(1 << below(8)) }
            return (b, "bit flips")
        case 1:
            let at = below(b.count + 1)
            b.insert(contentsOf: (0..<(1 + below(16))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            return (b, "insertion at \(at)")
        case 2:
            let at = below(b.count), n = min(b.count - at, 1 + below(32))
            b.removeSubrange(at..<(at + n))
            return (b, "deletion of \(n) at \(at)")
        case 3:
            let cuts = boundaries.filter { $0 <= b.count }
            let at = cuts.isEmpty || below(2) == 0 ? below(b.count + 1) : cuts[below(cuts.count)]
            return (Array(b.prefix(at)), "truncation at \(at)")
        case 4:
            let at = below(b.count + 1), from = below(other.count + 1)
            return (Array(b.prefix(at)) + other.suffix(from: from), "splice at \(at) from \(from)")
        case 5:
            let specials: [UInt64] = [0, .max, 1 << 62, UInt64(Int64.max), 0xFFFF_FFFF, 1 << 40]
            let v = specials[below(specials.count)]
            let cuts = boundaries.filter { $0 + 8 <= b.count }
            let at = cuts.isEmpty ? below(max(b.count - 7, 0)) : cuts[below(cuts.count)]
            for i in 0..<8 where at + i < b.count { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
            return (b, "field at \(at) set to \(v)")
        default:
            // A digit replaced by a long run of digits (huge shapes, offsets, counts in text).
            let digits = b.indices.filter { b[$0] >= 0x30 && b[$0] <= 0x39 }
            guard !digits.isEmpty else { return (b, "no digit") }
            let at = digits[below(digits.count)]
            b.replaceSubrange(at...at, with: Array(repeating: UInt8(ascii: "9"), count: 1 + below(30)))
            return (b, "digits at \(at)")
        }
    }
}
