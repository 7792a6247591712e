// Errors and format sniffing shared by the image codecs (PNG through libpng, JPEG through
// libjpeg-turbo). Decoders take bytes; the `source` they are given (a path, usually) is
// repeated in every error so that a bad file in a folder of thousands can be found.
import Foundation

/// A failure to decode or encode an image, naming the source and the codec's own reason.
public struct ImageCodecError: LocalizedError, Equatable, Sendable {
    /// The file (or other source) involved; "<memory>" when decoding plain bytes.
    public var source: String
    /// What went wrong, in the codec's words.
    public var reason: String

    public init(source: String, reason: String) {
        self.source = source
        self.reason = reason
    }

    public var errorDescription: String? { "\(source): \(reason)" }
}

/// The image file formats swift-simclr reads.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png, jpeg

    /// The format announced by the file's first bytes (PNG signature, JPEG SOI marker), or nil.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47,
            bytes[4] == 0x0D, bytes[5] == 0x0A, bytes[6] == 0x1A, bytes[7] == 0x0A
        {
            return .png
        }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        return nil
    }

    /// The format a file name's extension suggests (case-insensitive), or nil.
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg", "jpe", "jfif": self = .jpeg
        default: return nil
        }
    }
}

/// Decoding of any supported image file into 8-bit RGB.
public enum ImageDecoder {
    /// Largest accepted image, in pixels (guards against absurd sizes in corrupt headers).
    public static let maxPixels = 1 << 28

    /// Decodes PNG or JPEG bytes (format taken from the bytes, not the name) into RGB8.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> RGBImage {
        let format = bytes.withUnsafeBytes { ImageFormat.sniff($0) }
        switch format {
        case .png: return try PNGCodec.decode(bytes, source: source)
        case .jpeg: return try JPEGCodec.decode(bytes, source: source)
        case nil:
            throw ImageCodecError(
                source: source, reason: "not a PNG or JPEG file (\(bytes.count) bytes, unknown signature)")
        }
    }

    /// Reads and decodes the image file at `url`.
    public static func decode(contentsOf url: URL) throws -> RGBImage {
        try decode(readFileBytes(url), source: url.path)
    }

    /// The bytes of a file, with an error that names the path when it cannot be read.
    static func readFileBytes(_ url: URL) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw ImageCodecError(source: url.path, reason: "cannot read file (\(error.localizedDescription))")
        }
    }
}
