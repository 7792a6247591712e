"""RandomState of Sources/TensorCore/RandomState.swift in Python (xoshiro256** seeded by
SplitMix64), bit for bit, so fixtures can be generated from the same random numbers the Swift
tests draw, and only results need storing."""
import numpy as np

M = (1 << 64) - 1


class RandomState:
    def __init__(self, seed):
        x = seed & M
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
            s.append(z ^ (z >> 31))
        self.s = s

    def next(self):
        s0, s1, s2, s3 = self.s
        r = (((s1 * 5) & M) << 7 | ((s1 * 5) & M) >> 57) & M
        r = (r * 9) & M
        t = (s1 << 17) & M
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & M
        self.s = [s0, s1, s2, s3]
        return r

    def uniform(self, lo, hi, n):
        """n Float32 values lo + (hi - lo) * u, u = (next >> 40) / 2^24, rounded per operation as in Swift."""
        u = np.array([self.next() >> 40 for _ in range(n)], dtype=np.float32) * np.float32(1.0 / 16777216.0)
        lo32, hi32 = np.float32(lo), np.float32(hi)
        return (lo32 + (hi32 - lo32) * u).astype(np.float32)
