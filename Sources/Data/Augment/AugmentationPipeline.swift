// The SimCLR view pipeline: sample a view's random parameters from a seeded RandomState, then
// render it from an 8-bit image into uint8 (for previews) or straight into a Float32 NCHW slot.
//
// Working format: uint8 between ops, exactly like torchvision v1 on PIL images (what published
// SimCLR numbers come from). Crop/resize/flip, brightness, contrast, saturation, hue, grayscale
// and solarize reproduce torchvision's output byte for byte; blur is within 1 uint8 level
// (Float32 summation order); Normalize is bit-exact Float32 ((v / 255 - mean) / std).
//
// Sampling and rendering are separate so that the random parameters can be tested on their own,
// and so that a view depends only on its RandomState: the loader seeds one per (seed, epoch, image).
import Foundation

/// Colour-jitter parameters of one view (torchvision ColorJitter.get_params).
public struct ColorJitterParameters: Sendable, Equatable, Codable {
    /// The order of the four ops: op codes 0 brightness, 1 contrast, 2 saturation, 3 hue.
    public var order: SIMD4<UInt8>
    /// Brightness factor, in [max(0, 1 - 0.8 s), 1 + 0.8 s].
    public var brightness: Float
    /// Contrast factor, in [max(0, 1 - 0.8 s), 1 + 0.8 s].
    public var contrast: Float
    /// Saturation factor, in [max(0, 1 - 0.8 s), 1 + 0.8 s].
    public var saturation: Float
    /// Hue shift as a fraction of the hue circle, in [-0.2 s, 0.2 s].
    public var hue: Float

    public init(order: SIMD4<UInt8> = [0, 1, 2, 3], brightness: Float = 1, contrast: Float = 1,
                saturation: Float = 1, hue: Float = 0) {
        self.order = order
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
    }
}

/// The random choices that define one view.
public struct ViewParameters: Sendable, Equatable, Codable {
    /// Source rectangle resized to the view size.
    public var crop: CropBox
    /// Horizontal flip.
    public var flip: Bool
    /// Colour jitter, or nil when not applied.
    public var jitter: ColorJitterParameters?
    /// Convert to grayscale.
    public var grayscale: Bool
    /// Gaussian-blur sigma, or nil when not blurred.
    public var blurSigma: Float?
    /// Solarize.
    public var solarize: Bool

    public init(crop: CropBox, flip: Bool = false, jitter: ColorJitterParameters? = nil, grayscale: Bool = false,
                blurSigma: Float? = nil, solarize: Bool = false) {
        self.crop = crop
        self.flip = flip
        self.jitter = jitter
        self.grayscale = grayscale
        self.blurSigma = blurSigma
        self.solarize = solarize
    }
}

/// Samples SimCLR views from an `AugmentationConfig` (a value: share it freely between threads).
public struct AugmentationPipeline: Sendable {
    public let config: AugmentationConfig

    /// A pipeline for `config`; throws `AugmentationError.invalidConfig` naming a bad field.
    public init(_ config: AugmentationConfig) throws {
        try config.validate()
        self.config = config
    }

    /// Uniform integer in 0 ..< n (n >= 1).
    @inline(__always) static func randomInt(_ n: Int, _ rng: inout RandomState) -> Int {
        Int(rng.next() % UInt64(n))
    }

    /// torchvision's RandomResizedCrop.get_params: up to 10 tries of area fraction ~ U(scale) and
    /// log aspect ratio ~ U(log ratio), w = round(sqrt(A a)), h = round(sqrt(A / a)), position
    /// uniform; if none fits, the largest centred crop whose aspect ratio is within `ratio`.
    public static func sampleCrop(width: Int, height: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>,
                                  rng: inout RandomState) -> CropBox {
        precondition(width >= 1 && height >= 1, "sampleCrop: empty image \(width)x\(height)")
        let area = Double(width * height)
        let logLo = Foundation.log(ratio.lowerBound), logHi = Foundation.log(ratio.upperBound)
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * rng.uniformDouble())
            let aspect = Foundation.exp(logLo + (logHi - logLo) * rng.uniformDouble())
            let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= width && h > 0 && h <= height {
                let top = randomInt(height - h + 1, &rng)
                let left = randomInt(width - w + 1, &rng)
                return CropBox(top: top, left: left, height: h, width: w)
            }
        }
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio.lowerBound {
            h = max(1, Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven)))
        } else if inRatio > ratio.upperBound {
            w = max(1, Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven)))
        }
        return CropBox(top: (height - h) / 2, left: (width - w) / 2, height: h, width: w)
    }

    /// Samples one view of a width x height image. Draws a fixed sequence from `rng`
    /// (crop, flip, jitter gate, order, four factors, grayscale, blur gate and sigma, solarize),
    /// so the parameters depend only on the generator's state.
    public func sampleView(width: Int, height: Int, rng: inout RandomState) -> ViewParameters {
        let c = config
        let crop = Self.sampleCrop(width: width, height: height, scale: c.scale, ratio: c.ratio, rng: &rng)
        let flip = rng.bernoulli(c.flipProbability)
        let jitterOn = rng.bernoulli(c.jitterProbability) && c.jitterStrength > 0
        var order: SIMD4<UInt8> = [0, 1, 2, 3]
        for i in stride(from: 3, to: 0, by: -1) {  // Fisher-Yates
            let j = Self.randomInt(i + 1, &rng)
            let t = order[i]; order[i] = order[j]; order[j] = t
        }
        let s = c.jitterStrength
        let b = 0.8 * s, h = 0.2 * s
        let brightness = rng.uniform(max(0, 1 - b), 1 + b)
        let contrast = rng.uniform(max(0, 1 - b), 1 + b)
        let saturation = rng.uniform(max(0, 1 - b), 1 + b)
        let hue = rng.uniform(-h, h)
        let gray = rng.bernoulli(c.grayscaleProbability)
        let blurOn = rng.bernoulli(c.blurProbability) && c.blur
        let sigma = rng.uniform(c.blurSigma.lowerBound, c.blurSigma.upperBound)
        let solarize = rng.bernoulli(c.solarizeProbability) && c.solarize
        return ViewParameters(
            crop: crop, flip: flip,
            jitter: jitterOn
                ? ColorJitterParameters(order: order, brightness: brightness, contrast: contrast,
                                        saturation: saturation, hue: hue) : nil,
            grayscale: gray, blurSigma: blurOn ? sigma : nil, solarize: solarize)
    }

    /// The generator of image `index` in `epoch` for run `seed`: the only source of its views.
    public static func randomState(seed: UInt64, epoch: Int, index: Int) -> RandomState {
        RandomState(seed: seed, UInt64(truncatingIfNeeded: epoch), UInt64(truncatingIfNeeded: index))
    }

    /// The `config.views` views of image `index` in `epoch`: depends only on (seed, epoch, index).
    public func sampleViews(width: Int, height: Int, seed: UInt64, epoch: Int, index: Int) -> [ViewParameters] {
        var rng = Self.randomState(seed: seed, epoch: epoch, index: index)
        return (0..<config.views).map { _ in sampleView(width: width, height: height, rng: &rng) }
    }

    /// torchvision's Resize(size) + CenterCrop(size) geometry for evaluation: the shorter side is
    /// scaled to `size` (longer side int(size * long / short)), then the centred size x size window
    /// (offset round((resized - size) / 2)) is kept. Returns (resized width, resized height, columns, rows).
    public static func evaluationGeometry(width: Int, height: Int, size: Int)
        -> (width: Int, height: Int, columns: Range<Int>, rows: Range<Int>)
    {
        var rw = width, rh = height
        if width <= height {
            if width != size { rw = size; rh = Int(Double(size) * Double(height) / Double(width)) }
        } else {
            if height != size { rh = size; rw = Int(Double(size) * Double(width) / Double(height)) }
        }
        let left = Int((Double(rw - size) / 2).rounded(.toNearestOrEven))
        let top = Int((Double(rh - size) / 2).rounded(.toNearestOrEven))
        return (rw, rh, left..<(left + size), top..<(top + size))
    }
}
