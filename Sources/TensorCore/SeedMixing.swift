// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014; the output mixer of Vigna's splitmix64.c): the
// one bit mixer behind every seed in swift-simclr. It seeds RandomState's xoshiro256** state,
// hashes (seed, epoch, index) keys into per-item seeds for the loader and the augmentations, and
// hashes coordinates in the synthetic textures. tools/simclr_random.py is its Python twin.

/// SplitMix64's increment, the odd integer nearest 2^64 / phi (phi the golden ratio).
public let splitMix64Gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

/// One SplitMix64 step: `state += gamma`, then the output is `state` mixed,
/// z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9; z = (z ^ z >> 27) * 0x94D049BB133111EB; z ^ z >> 31
/// (all modulo 2^64).
@inlinable
public func splitMix64(_ state: inout UInt64) -> UInt64 {
    state &+= splitMix64Gamma
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// A 64-bit hash of `value`: the output of one SplitMix64 step from state `value`.
@inlinable
public func splitMix64(of value: UInt64) -> UInt64 {
    var state = value
    return splitMix64(&state)
}

/// One seed for one item of a stream, depending only on (seed, keys...), e.g. (seed, epoch, index):
/// h = seed, then for each key k: h = H(h ^ H(k + 0x632BE59BD9B4E019)), H = `splitMix64(of:)`.
public func mixSeed(_ seed: UInt64, _ keys: [UInt64]) -> UInt64 {
    var h = seed
    for k in keys { h = splitMix64(of: h ^ splitMix64(of: k &+ 0x632B_E59B_D9B4_E019)) }
    return h
}

/// `mixSeed(seed, [keys...])`.
public func mixSeed(_ seed: UInt64, _ keys: UInt64...) -> UInt64 { mixSeed(seed, keys) }
