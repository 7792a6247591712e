// PNG decode and encode through libpng's "simplified" API (png_image), which does its own
// setjmp error handling, so no C error can unwind through Swift frames.
//
// Decoding yields RGB8 for every PNG kind: grayscale is replicated, palettes are expanded,
// 16-bit samples become 8-bit, and an alpha channel is dropped (not composited), which is what
// PIL's `Image.convert("RGB")` — and therefore torchvision's ImageFolder — does.
import CPNG
import Foundation

/// PNG encoding and decoding of `RGBImage` (libpng).
public enum PNGCodec {
    /// Decodes a PNG file's bytes into an 8-bit RGB image.
    ///
    /// 16-bit files without gAMA/sRGB chunks are read as sRGB-encoded (so sample `v * 257`
    /// decodes to `v`), as image viewers and PIL do, rather than as linear light.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> RGBImage {
        // libpng reads from `raw` from begin_read to finish_read: both happen inside this closure.
        var (decoded, width, height, hasAlpha) = try bytes.withUnsafeBytes { raw in try decodeRaw(raw, source: source) }
        if !hasAlpha { return RGBImage(width: width, height: height, pixels: decoded) }
        // Drop alpha: RGBA -> RGB in place, front to back (the write index never passes the read).
        let count = width * height
        decoded.withUnsafeMutableBufferPointer { p in
            for i in 0..<count {
                p[i * 3] = p[i * 4]
                p[i * 3 + 1] = p[i * 4 + 1]
                p[i * 3 + 2] = p[i * 4 + 2]
            }
        }
        decoded.removeLast(count)
        return RGBImage(width: width, height: height, pixels: decoded)
    }

    /// Reads and decodes the PNG file at `url`.
    public static func read(contentsOf url: URL) throws -> RGBImage {
        try decode(ImageDecoder.readFileBytes(url), source: url.path)
    }

    /// Encodes an image as an 8-bit RGB PNG (default zlib compression, no gamma conversion).
    public static func encode(_ image: RGBImage) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else {
            throw ImageCodecError(source: "<memory>", reason: "cannot encode an empty \(image.width)x\(image.height) image as PNG")
        }
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = UInt32(PNG_FORMAT_FLAG_COLOR)
        var size: Int = 0
        // First pass measures, second writes.
        let measured = image.pixels.withUnsafeBytes { src in
            png_image_write_to_memory(&png, nil, &size, 0, src.baseAddress, 0, nil)
        }
        guard measured != 0, size > 0 else {
            let reason = message(of: &png)
            throw ImageCodecError(source: "<memory>", reason: "PNG encoding failed (\(reason))")
        }
        var out = [UInt8](repeating: 0, count: size)
        let written = image.pixels.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                png_image_write_to_memory(&png, dst.baseAddress, &size, 0, src.baseAddress, 0, nil)
            }
        }
        guard written != 0 else {
            let reason = message(of: &png)
            throw ImageCodecError(source: "<memory>", reason: "PNG encoding failed (\(reason))")
        }
        if size < out.count { out.removeLast(out.count - size) }
        return out
    }

    /// Encodes `image` as PNG and writes it to `url` atomically.
    public static func write(_ image: RGBImage, to url: URL) throws {
        let bytes = try encode(image)
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw ImageCodecError(source: url.path, reason: "cannot write PNG (\(error.localizedDescription))")
        }
    }

    /// libpng simplified read of PNG bytes into RGB8, or RGBA8 when the file has alpha.
    private static func decodeRaw(_ raw: UnsafeRawBufferPointer, source: String) throws -> ([UInt8], Int, Int, Bool) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
            let reason = message(of: &image)
            png_image_free(&image)
            throw ImageCodecError(source: source, reason: "invalid PNG (\(reason))")
        }
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width * height <= ImageDecoder.maxPixels else {
            png_image_free(&image)
            throw ImageCodecError(source: source, reason: "PNG size \(width)x\(height) is empty or too large")
        }
        // After begin_read (which sets the flags): 16-bit data without gAMA/sRGB is sRGB-encoded.
        image.flags = UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        let hasAlpha = (image.format & UInt32(PNG_FORMAT_FLAG_ALPHA)) != 0
        image.format = UInt32(hasAlpha ? PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA : PNG_FORMAT_FLAG_COLOR)
        var decoded = [UInt8](repeating: 0, count: width * height * (hasAlpha ? 4 : 3))
        let finished = decoded.withUnsafeMutableBytes { out in
            png_image_finish_read(&image, nil, out.baseAddress, 0, nil)
        }
        guard finished != 0 else {
            let reason = message(of: &image)
            png_image_free(&image)
            throw ImageCodecError(source: source, reason: "corrupt or truncated PNG (\(reason))")
        }
        png_image_free(&image)
        return (decoded, width, height, hasAlpha)
    }

    /// libpng's message buffer as a Swift string.
    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "libpng gave no reason" : String(decoding: bytes, as: UTF8.self)
        }
    }
}
