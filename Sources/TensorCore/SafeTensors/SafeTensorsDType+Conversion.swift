// SafeTensorsDType+Conversion: stored little-endian elements to and from `Float` (and exact
// integers). F16 goes through Swift's `Float16`; BF16, which has no Swift type, through
// `bfloat16ToFloat`.

extension SafeTensorsDType {
    /// Converts `count` stored elements at `src` into `out`.
    ///
    /// F32 is copied bit for bit; F64 rounds to nearest; F16 and BF16 widen exactly; I64 and I32
    /// convert exactly below 2^24 in magnitude (rounded to nearest beyond). No allocation.
    func decode(_ src: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32:
            #if _endian(little)
                UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: 4 * count)
            #else
                for i in 0..<count { out[i] = Float(bitPattern: src.littleEndian(UInt32.self, at: i)) }
            #endif
        case .f64:
            for i in 0..<count { out[i] = Float(Double(bitPattern: src.littleEndian(UInt64.self, at: i))) }
        case .f16:
            for i in 0..<count { out[i] = Float(Float16(bitPattern: src.littleEndian(UInt16.self, at: i))) }
        case .bf16:
            for i in 0..<count { out[i] = bfloat16ToFloat(src.littleEndian(UInt16.self, at: i)) }
        case .i64:
            for i in 0..<count { out[i] = Float(src.littleEndian(Int64.self, at: i)) }
        case .i32:
            for i in 0..<count { out[i] = Float(src.littleEndian(Int32.self, at: i)) }
        }
    }

    /// The exact values of `count` stored integers at `src` (`I64` or `I32`; nil for float types).
    func decodeIntegers(_ src: UnsafeRawPointer, count: Int) -> [Int64]? {
        switch self {
        case .i64: return (0..<count).map { src.littleEndian(Int64.self, at: $0) }
        case .i32: return (0..<count).map { Int64(src.littleEndian(Int32.self, at: $0)) }
        case .f32, .f64, .f16, .bf16: return nil
        }
    }

    /// Stores `count` values from `src` at `out` in this (writable) dtype: F32 bit for bit, I64
    /// as the exact whole number (the caller has checked that each value is one).
    func encode(_ src: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        switch self {
        case .i64:
            for i in 0..<count { out.storeBytes(of: Int64(src[i]).littleEndian, toByteOffset: 8 * i, as: Int64.self) }
        case .f32:
            for i in 0..<count {
                out.storeBytes(of: src[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
            }
        case .f64, .f16, .bf16, .i32:
            preconditionFailure("SafeTensorsDType.encode: \(self) is not written (the writer checks isWritable first)")
        }
    }
}

/// bfloat16 -> binary32, exact: a bfloat16 is the upper 16 bits of a Float (same sign, exponent
/// and leading mantissa bits), so widening is a shift.
@inline(__always)
func bfloat16ToFloat(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

extension UnsafeRawPointer {
    /// Element `index` of a little-endian array of `T` starting here (any alignment).
    @inline(__always)
    fileprivate func littleEndian<T: FixedWidthInteger>(_: T.Type, at index: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: MemoryLayout<T>.size * index, as: T.self))
    }
}
