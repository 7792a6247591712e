// RGBImage and the dataset protocol: the currency of the data pipeline.
// dataset (uint8 images) -> views (augmentations, seeded per image) -> loader (Float32 batches).
@_exported import TensorCore

/// An 8-bit RGB image, pixels interleaved row-major (HWC): pixel (x, y) channel c is at
/// `pixels[(y * width + x) * 3 + c]`.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) bytes for \(width)x\(height)x3")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }
}

/// A finite, indexable set of images, optionally labelled. Reading is thread-safe: the loader
/// calls `image(at:)` from several threads at once.
public protocol ImageDataset: Sendable {
    /// A short name for logs ("cifar10/train").
    var name: String { get }
    /// Number of images.
    var count: Int { get }
    /// Class names in label order (empty for unlabeled data).
    var classNames: [String] { get }
    /// The image at `index` (0 ..< count).
    func image(at index: Int) throws -> RGBImage
    /// The label at `index` in 0 ..< classNames.count, or nil for unlabeled data.
    func label(at index: Int) -> Int?
}
