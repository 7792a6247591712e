// CRC32C (Castagnoli): the checksum of TFRecord framing, which TensorBoard event files use.
// Reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF (RFC 3720, iSCSI).
// TFRecord stores a "masked" CRC so that a CRC of data that itself contains CRCs stays well
// distributed: masked = ((crc >> 15) | (crc << 17)) + 0xA282EAD8 (mod 2^32).

/// CRC-32C (Castagnoli) with slicing-by-8 tables, and the TFRecord masking.
///
/// Check value (RFC 3720 / the CRC catalogue): `CRC32C.checksum("123456789".utf8) == 0xE3069283`.
public enum CRC32C {
    /// Reflected Castagnoli polynomial.
    static let polynomial: UInt32 = 0x82F6_3B78

    /// Eight 256-entry tables: `tables[k * 256 + b]` is the CRC contribution of byte `b`
    /// followed by `k` zero bytes (slicing-by-8).
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for b in 0..<256 {
            var c = UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ polynomial : c >> 1 }
            t[b] = c
        }
        for k in 1..<8 {
            for b in 0..<256 {
                let prev = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return t
    }()

    /// Continues a CRC-32C over `bytes`; start with `crc = 0`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        var i = 0
        let n = bytes.count
        tables.withUnsafeBufferPointer { t in
            while i + 8 <= n {
                let lo = (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
                    | UInt32(bytes[i + 3]) << 24) ^ c
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(bytes[i + 4])] ^ t[2 * 256 + Int(bytes[i + 5])]
                    ^ t[1 * 256 + Int(bytes[i + 6])] ^ t[Int(bytes[i + 7])]
                i += 8
            }
            while i < n {
                c = (c >> 8) ^ t[Int((c ^ UInt32(bytes[i])) & 0xFF)]
                i += 1
            }
        }
        return ~c
    }

    /// CRC-32C of a byte sequence.
    public static func checksum<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        let array = Array(bytes)
        return array.withUnsafeBytes { update(0, $0) }
    }

    /// TFRecord masking: `((crc >> 15) | (crc << 17)) &+ 0xA282EAD8`.
    @inlinable public static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// Inverse of `mask`.
    @inlinable public static func unmask(_ masked: UInt32) -> UInt32 {
        let r = masked &- 0xA282_EAD8
        return (r >> 17) | (r << 15)
    }

    /// Masked CRC-32C of `bytes`, as stored in TFRecord framing.
    public static func maskedChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { mask(update(0, bytes)) }
}
