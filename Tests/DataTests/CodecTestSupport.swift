// Test-only PNG writer, independent of libpng: PNG chunks with CRC-32 and a zlib stream made of
// stored (uncompressed) deflate blocks with an Adler-32 trailer. It writes every colour type and
// bit depth the decoder must handle, so decode results can be checked against known samples.
import Foundation

enum RawPNG {
    /// PNG colour types (PNG spec, table 11.1).
    enum ColorType: UInt8 { case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6 }

    /// A PNG of `samples` (row-major, channel-interleaved, one entry per sample, values < 2^bitDepth).
    static func make(width: Int, height: Int, colorType: ColorType, bitDepth: UInt8, samples: [UInt16],
                     palette: [(UInt8, UInt8, UInt8)] = [], transparency: [UInt8] = []) -> [UInt8] {
        let channels: Int
        switch colorType {
        case .gray, .palette: channels = 1
        case .grayAlpha: channels = 2
        case .rgb: channels = 3
        case .rgba: channels = 4
        }
        precondition(samples.count == width * height * channels)
        precondition(bitDepth == 8 || bitDepth == 16)
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(0)  // filter type None
            for i in 0..<(width * channels) {
                let s = samples[y * width * channels + i]
                if bitDepth == 16 { raw.append(UInt8(s >> 8)); raw.append(UInt8(s & 0xFF)) } else { raw.append(UInt8(s)) }
            }
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr: [UInt8] = []
        ihdr += be32(UInt32(width)) + be32(UInt32(height))
        ihdr += [bitDepth, colorType.rawValue, 0, 0, 0]
        out += chunk("IHDR", ihdr)
        if !palette.isEmpty { out += chunk("PLTE", palette.flatMap { [$0.0, $0.1, $0.2] }) }
        if !transparency.isEmpty { out += chunk("tRNS", transparency) }
        out += chunk("IDAT", zlibStored(raw))
        out += chunk("IEND", [])
        return out
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return be32(UInt32(data.count)) + typeBytes + data + be32(crc32(typeBytes + data))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }

    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for x in data { a = (a + UInt32(x)) % 65_521; b = (b + a) % 65_521 }
        return out + be32(b << 16 | a)
    }
}

/// A smooth, seeded test picture (gradients plus a soft blob), friendly to lossy JPEG.
func smoothTestImage(width: Int, height: Int, seed: UInt64 = 1) -> RGBImageForTests {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    let phase = Double(seed % 7)
    for y in 0..<height {
        for x in 0..<width {
            let u = Double(x) / Double(max(width - 1, 1)), v = Double(y) / Double(max(height - 1, 1))
            let blob = exp(-((u - 0.5) * (u - 0.5) + (v - 0.4) * (v - 0.4)) * 8)
            let i = (y * width + x) * 3
            pixels[i] = UInt8(min(255, 40 + 180 * u))
            pixels[i + 1] = UInt8(min(255, 30 + 200 * v * (0.5 + 0.5 * sin(phase))))
            pixels[i + 2] = UInt8(min(255, 20 + 220 * blob))
        }
    }
    return RGBImageForTests(width: width, height: height, pixels: pixels)
}

struct RGBImageForTests { var width: Int; var height: Int; var pixels: [UInt8] }
