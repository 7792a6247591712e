import Data
import Foundation
import TestSupport
import XCTest

final class CodecPNGTests: XCTestCase {
    func testEncodeDecodeRoundTripIsExact() throws {
        var rng = TestRNG(seed: 11)
        let pixels = (0..<(17 * 9 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let image = RGBImage(width: 17, height: 9, pixels: pixels)
        let bytes = try PNGCodec.encode(image)
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertEqual(try PNGCodec.decode(bytes), image)
        XCTAssertEqual(try ImageDecoder.decode(bytes), image)
    }

    func testWriteToFileAndReadBack() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = RGBImage(width: 3, height: 2, pixels: Array(0..<18))
        let url = dir.appendingPathComponent("a.png")
        try PNGCodec.write(image, to: url)
        XCTAssertEqual(try PNGCodec.read(contentsOf: url), image)
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: url), image)
    }

    func testGray8IsReplicated() throws {
        let samples: [UInt16] = [0, 50, 128, 255, 7, 200]
        let png = RawPNG.make(width: 3, height: 2, colorType: .gray, bitDepth: 8, samples: samples)
        let image = try PNGCodec.decode(png)
        XCTAssertEqual(image.width, 3)
        XCTAssertEqual(image.height, 2)
        XCTAssertEqual(image.pixels, samples.flatMap { [UInt8($0), UInt8($0), UInt8($0)] })
    }

    func testSixteenBitGrayAndRGBBecomeEightBit() throws {
        let values: [UInt8] = [0, 1, 64, 127, 128, 254, 255, 33]
        let gray = RawPNG.make(width: 4, height: 2, colorType: .gray, bitDepth: 16, samples: values.map { UInt16($0) * 257 })
        XCTAssertEqual(try PNGCodec.decode(gray).pixels, values.flatMap { [$0, $0, $0] })

        let rgbValues: [UInt8] = (0..<12).map { UInt8($0 * 21) }
        let rgb = RawPNG.make(width: 2, height: 2, colorType: .rgb, bitDepth: 16, samples: rgbValues.map { UInt16($0) * 257 })
        XCTAssertEqual(try PNGCodec.decode(rgb).pixels, rgbValues)
    }

    func testPaletteIsExpanded() throws {
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (10, 20, 30)]
        let indices: [UInt16] = [2, 0, 1, 1, 0, 2]
        let png = RawPNG.make(width: 3, height: 2, colorType: .palette, bitDepth: 8, samples: indices, palette: palette)
        let expected = indices.flatMap { i -> [UInt8] in let c = palette[Int(i)]; return [c.0, c.1, c.2] }
        XCTAssertEqual(try PNGCodec.decode(png).pixels, expected)

        // With a tRNS chunk the palette gains alpha, which is dropped, not composited.
        let transparentPNG = RawPNG.make(width: 3, height: 2, colorType: .palette, bitDepth: 8, samples: indices,
                                         palette: palette, transparency: [0, 128, 255])
        XCTAssertEqual(try PNGCodec.decode(transparentPNG).pixels, expected)
    }

    func testAlphaIsDroppedNotComposited() throws {
        // Fully transparent and half transparent pixels keep their stored colour (PIL convert("RGB")).
        let rgba: [UInt16] = [200, 100, 50, 0, 10, 20, 30, 128, 255, 255, 255, 255, 1, 2, 3, 0]
        let png = RawPNG.make(width: 2, height: 2, colorType: .rgba, bitDepth: 8, samples: rgba)
        XCTAssertEqual(try PNGCodec.decode(png).pixels, [200, 100, 50, 10, 20, 30, 255, 255, 255, 1, 2, 3])

        let grayAlpha: [UInt16] = [90, 0, 180, 255]
        let ga = RawPNG.make(width: 2, height: 1, colorType: .grayAlpha, bitDepth: 8, samples: grayAlpha)
        XCTAssertEqual(try PNGCodec.decode(ga).pixels, [90, 90, 90, 180, 180, 180])
    }

    func testLargerImageSpanningSeveralDeflateBlocks() throws {
        // 200x150 RGB = 90,150 bytes of scanlines: two stored blocks.
        var rng = TestRNG(seed: 5)
        let samples = (0..<(200 * 150 * 3)).map { _ in UInt16(rng.next() & 0xFF) }
        let png = RawPNG.make(width: 200, height: 150, colorType: .rgb, bitDepth: 8, samples: samples)
        XCTAssertEqual(try PNGCodec.decode(png).pixels, samples.map { UInt8($0) })
    }

    func testCorruptAndTruncatedPNGAreRefusedWithSource() throws {
        let image = RGBImage(width: 8, height: 8, pixels: (0..<192).map { UInt8($0) })
        let good = try PNGCodec.encode(image)
        let truncated = Array(good.prefix(good.count / 2))
        XCTAssertThrowsError(try PNGCodec.decode(truncated, source: "/data/x.png")) { error in
            XCTAssertTrue(error.localizedDescription.contains("/data/x.png"), error.localizedDescription)
        }
        var flipped = good
        flipped[40] ^= 0xFF  // inside IHDR/IDAT: CRC or zlib check fails
        XCTAssertThrowsError(try PNGCodec.decode(flipped, source: "bad.png"))
        XCTAssertThrowsError(try PNGCodec.decode(Array(good.prefix(8)), source: "sig-only.png"))
    }

    func testUnknownFormatIsRefused() {
        XCTAssertThrowsError(try ImageDecoder.decode([1, 2, 3, 4, 5, 6, 7, 8, 9], source: "notes.txt")) { error in
            let text = error.localizedDescription
            XCTAssertTrue(text.contains("notes.txt") && text.contains("not a PNG or JPEG"), text)
        }
        XCTAssertThrowsError(try ImageDecoder.decode([], source: "empty.png"))
    }
}

final class CodecJPEGTests: XCTestCase {
    func testEncodeDecodeRoundTripIsClose() throws {
        let t = smoothTestImage(width: 40, height: 24)
        let image = RGBImage(width: t.width, height: t.height, pixels: t.pixels)
        let bytes = try JPEGCodec.encode(image, quality: 98, subsampling: .s444)
        XCTAssertEqual(Array(bytes.prefix(2)), [0xFF, 0xD8])
        let decoded = try ImageDecoder.decode(bytes)
        XCTAssertEqual(decoded.width, 40)
        XCTAssertEqual(decoded.height, 24)
        // Lossy: at quality 98 with 4:4:4 a smooth picture comes back within a few levels.
        var maxDiff = 0, total = 0
        for i in 0..<image.pixels.count {
            let d = abs(Int(decoded.pixels[i]) - Int(image.pixels[i]))
            maxDiff = max(maxDiff, d)
            total += d
        }
        XCTAssertLessThanOrEqual(maxDiff, 6)
        XCTAssertLessThan(Double(total) / Double(image.pixels.count), 1.5)
    }

    func testSubsampledAndOddSizedImagesDecode() throws {
        let t = smoothTestImage(width: 33, height: 17, seed: 3)
        let image = RGBImage(width: t.width, height: t.height, pixels: t.pixels)
        let decoded = try JPEGCodec.decode(try JPEGCodec.encode(image, quality: 90, subsampling: .s420))
        XCTAssertEqual(decoded.width, 33)
        XCTAssertEqual(decoded.height, 17)
        let meanDiff = zip(decoded.pixels, image.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        XCTAssertLessThan(Double(meanDiff) / Double(image.pixels.count), 4)
    }

    func testGrayscaleJPEGBecomesRGBWithEqualChannels() throws {
        let gray = (0..<(16 * 8)).map { UInt8(($0 * 2) % 256) }
        let decoded = try JPEGCodec.decode(try JPEGCodec.encodeGray(gray, width: 16, height: 8, quality: 95))
        XCTAssertEqual(decoded.width, 16)
        for p in 0..<(16 * 8) {
            XCTAssertEqual(decoded.pixels[p * 3], decoded.pixels[p * 3 + 1])
            XCTAssertEqual(decoded.pixels[p * 3], decoded.pixels[p * 3 + 2])
            XCTAssertLessThanOrEqual(abs(Int(decoded.pixels[p * 3]) - Int(gray[p])), 12)
        }
    }

    func testTruncatedAndCorruptJPEGAreRefused() throws {
        let t = smoothTestImage(width: 64, height: 64)
        let bytes = try JPEGCodec.encode(RGBImage(width: 64, height: 64, pixels: t.pixels), quality: 90)
        XCTAssertThrowsError(try JPEGCodec.decode(Array(bytes.prefix(bytes.count * 2 / 3)), source: "/p/cat.jpg")) { error in
            XCTAssertTrue(error.localizedDescription.contains("/p/cat.jpg"), error.localizedDescription)
        }
        XCTAssertThrowsError(try JPEGCodec.decode(Array(bytes.prefix(20)), source: "head.jpg"))
        XCTAssertThrowsError(try ImageDecoder.decode([0xFF, 0xD8, 0xFF, 0x00, 0x01], source: "junk.jpg"))
    }
}
