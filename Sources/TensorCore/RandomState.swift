import Foundation

// Explicit, seedable randomness: every random choice in swift-simclr (initialisation, shuffling,
// augmentation parameters) draws from a RandomState it was handed, never from a global source,
// so a run is reproducible from its seed whatever the number of threads.

/// xoshiro256** seeded through SplitMix64. Value type: copy it to fork a stream.
public struct RandomState: RandomNumberGenerator, Sendable, Codable, Equatable {
    public var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose stream depends only on `seed`: the state is four SplitMix64 outputs from it.
    public init(seed: UInt64) {
        var x = seed
        s0 = splitMix64(&x); s1 = splitMix64(&x); s2 = splitMix64(&x); s3 = splitMix64(&x)
    }

    /// A generator for one item of a stream, depending only on (seed, keys...): used for
    /// "the views of image i in epoch e" so that the result does not depend on scheduling.
    /// Seeded with `mixSeed(seed, keys)`.
    public init(seed: UInt64, _ keys: UInt64...) {
        self.init(seed: mixSeed(seed, keys))
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform Float in [0, 1) with 24 random bits.
    @inlinable public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform Double in [0, 1) with 53 random bits.
    @inlinable public mutating func uniformDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Uniform Float in [lo, hi).
    @inlinable public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * uniform() }

    /// Standard normal (Box-Muller, double precision inside).
    public mutating func normal() -> Float {
        var u = uniformDouble()
        while u <= 0 { u = uniformDouble() }
        let v = uniformDouble()
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }

    /// True with probability p.
    @inlinable public mutating func bernoulli(_ p: Float) -> Bool { uniform() < p }
}

