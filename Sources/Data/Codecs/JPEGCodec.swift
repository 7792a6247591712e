// JPEG decode (and a plain encode, for previews and test inputs) through libjpeg-turbo's
// TurboJPEG API. One TurboJPEG handle per call: handles are not thread-safe, and creating
// one costs far less than decoding an image.
//
// libjpeg warnings (e.g. "premature end of JPEG file") are treated as errors: a truncated file
// would otherwise decode into silently grey-filled pixels, and PIL refuses such files too.
import CJPEG
import Foundation

/// JPEG decoding and encoding of `RGBImage` (libjpeg-turbo).
public enum JPEGCodec {
    /// Chroma subsampling for `encode`.
    public enum Subsampling: Sendable {
        case s444, s422, s420

        var tj: Int32 {
            switch self {
            case .s444: return Int32(TJSAMP_444.rawValue)
            case .s422: return Int32(TJSAMP_422.rawValue)
            case .s420: return Int32(TJSAMP_420.rawValue)
            }
        }
    }

    /// Decodes a JPEG file's bytes (baseline or progressive, colour or grayscale) into RGB8.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> RGBImage {
        guard let handle = tjInitDecompress() else {
            throw ImageCodecError(source: source, reason: "TurboJPEG could not create a decompressor")
        }
        defer { tjDestroy(handle) }
        var w: Int32 = 0, h: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer { p in
            tjDecompressHeader3(handle, p.baseAddress, UInt(p.count), &w, &h, &subsamp, &colorspace)
        }
        guard header == 0 else {
            throw ImageCodecError(source: source, reason: "invalid JPEG header (\(errorString(handle)))")
        }
        let width = Int(w), height = Int(h)
        guard width > 0, height > 0, width * height <= ImageDecoder.maxPixels else {
            throw ImageCodecError(source: source, reason: "JPEG size \(width)x\(height) is empty or too large")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let status = bytes.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress, w, 0, h,
                              Int32(TJPF_RGB.rawValue), 0)
            }
        }
        guard status == 0 else {
            throw ImageCodecError(source: source, reason: "corrupt or truncated JPEG (\(errorString(handle)))")
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Reads and decodes the JPEG file at `url`.
    public static func read(contentsOf url: URL) throws -> RGBImage {
        try decode(ImageDecoder.readFileBytes(url), source: url.path)
    }

    /// Encodes an RGB image as a baseline JPEG of the given quality (1...100).
    public static func encode(_ image: RGBImage, quality: Int = 95, subsampling: Subsampling = .s444) throws -> [UInt8] {
        try encodeRaw(image.pixels, width: image.width, height: image.height,
                      pixelFormat: Int32(TJPF_RGB.rawValue), subsampling: subsampling.tj, quality: quality)
    }

    /// Encodes 8-bit grayscale pixels (row-major, `width * height` bytes) as a one-channel JPEG.
    public static func encodeGray(_ pixels: [UInt8], width: Int, height: Int, quality: Int = 95) throws -> [UInt8] {
        precondition(pixels.count == width * height, "encodeGray: \(pixels.count) bytes for \(width)x\(height)")
        return try encodeRaw(pixels, width: width, height: height, pixelFormat: Int32(TJPF_GRAY.rawValue),
                             subsampling: Int32(TJSAMP_GRAY.rawValue), quality: quality)
    }

    private static func encodeRaw(_ pixels: [UInt8], width: Int, height: Int, pixelFormat: Int32,
                                  subsampling: Int32, quality: Int) throws -> [UInt8] {
        precondition((1...100).contains(quality), "JPEG quality \(quality) outside 1...100")
        guard width > 0, height > 0 else {
            throw ImageCodecError(source: "<memory>", reason: "cannot encode an empty \(width)x\(height) image as JPEG")
        }
        guard let handle = tjInitCompress() else {
            throw ImageCodecError(source: "<memory>", reason: "TurboJPEG could not create a compressor")
        }
        defer { tjDestroy(handle) }
        var jpeg: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = pixels.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(width), 0, Int32(height), pixelFormat, &jpeg, &size,
                        subsampling, Int32(quality), 0)
        }
        defer { if let jpeg { tjFree(jpeg) } }
        guard status == 0, let jpeg else {
            throw ImageCodecError(source: "<memory>", reason: "JPEG encoding failed (\(errorString(handle)))")
        }
        return [UInt8](UnsafeBufferPointer(start: jpeg, count: Int(size)))
    }

    private static func errorString(_ handle: tjhandle) -> String {
        guard let c = tjGetErrorStr2(handle) else { return "no reason given" }
        return String(cString: c)
    }
}
