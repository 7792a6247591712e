// MD5 (RFC 1321), written out here to check downloaded dataset archives against their
// published checksums and to key caches. Not for security: MD5 is broken for that.
import Foundation

/// Incremental MD5 digest (RFC 1321).
public struct MD5: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
    private var buffer = [UInt8](repeating: 0, count: 64)
    private var buffered = 0
    private var length: UInt64 = 0

    /// Per-round left-rotation amounts.
    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]
    /// K[i] = floor(2^32 * |sin(i + 1)|).
    private static let k: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64((abs(sin(Double($0 + 1))) * 4_294_967_296).rounded(.down))) }

    public init() {}

    /// Feeds bytes into the digest.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var i = 0
        if buffered > 0 {
            let take = min(64 - buffered, bytes.count)
            for j in 0..<take { buffer[buffered + j] = bytes[j] }
            buffered += take
            i = take
            if buffered == 64 {
                buffer.withUnsafeBytes { compress($0.baseAddress!) }
                buffered = 0
            }
        }
        while i + 64 <= bytes.count {
            compress(bytes.baseAddress! + i)
            i += 64
        }
        for j in i..<bytes.count {
            buffer[buffered] = bytes[j]
            buffered += 1
        }
    }

    /// Feeds an array of bytes.
    public mutating func update<C: ContiguousBytes>(_ bytes: C) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The 16-byte digest (the receiver is not changed).
    public func finalize() -> [UInt8] {
        var copy = self
        let bitLength = length &* 8
        var pad: [UInt8] = [0x80]
        let rem = (buffered + 1) % 64
        pad += [UInt8](repeating: 0, count: rem <= 56 ? 56 - rem : 120 - rem)
        for s in 0..<8 { pad.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(s)))) }
        let savedLength = copy.length
        copy.update(pad)
        copy.length = savedLength
        var out: [UInt8] = []
        for word in [copy.state.0, copy.state.1, copy.state.2, copy.state.3] {
            for s in 0..<4 { out.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(s)))) }
        }
        return out
    }

    /// The digest as 32 lowercase hex digits.
    public func hexDigest() -> String { finalize().map { String(format: "%02x", $0) }.joined() }

    /// MD5 of a byte sequence, as hex.
    public static func hex<C: ContiguousBytes>(_ bytes: C) -> String {
        var md5 = MD5()
        md5.update(bytes)
        return md5.hexDigest()
    }

    /// MD5 of a file, read in 1 MB pieces (never whole), as hex; `progress` gets bytes done.
    public static func hex(ofFile url: URL, progress: ((Int) -> Void)? = nil) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            if !FileManager.default.fileExists(atPath: url.path) {
                throw DatasetError.missingFile(path: url.path, expected: "a file to checksum")
            }
            throw DatasetError.unreadable(path: url.path, reason: "cannot open for reading")
        }
        defer { try? handle.close() }
        var md5 = MD5()
        var done = 0
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw DatasetError.unreadable(path: url.path, reason: error.localizedDescription)
            }
            if chunk.isEmpty { break }
            md5.update(chunk)
            done += chunk.count
            progress?(done)
        }
        return md5.hexDigest()
    }

    /// One 64-byte block.
    private mutating func compress(_ block: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { m in
            for i in 0..<16 { m[i] = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
            MD5.k.withUnsafeBufferPointer { k in
                MD5.shifts.withUnsafeBufferPointer { shifts in
                    var a = state.0, b = state.1, c = state.2, d = state.3
                    for i in 0..<64 {
                        var f: UInt32
                        let g: Int
                        switch i {
                        case 0..<16: f = (b & c) | (~b & d); g = i
                        case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) & 15
                        case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) & 15
                        default: f = c ^ (b | ~d); g = (7 * i) & 15
                        }
                        f = f &+ a &+ k[i] &+ m[g]
                        a = d; d = c; c = b
                        let s = shifts[i]
                        b = b &+ ((f << s) | (f >> (32 - s)))
                    }
                    state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
                }
            }
        }
    }
}
