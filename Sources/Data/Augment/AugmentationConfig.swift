// AugmentationConfig: every knob of SimCLR's view distribution (Chen et al., ICML 2020,
// Appendix A) in one value, with the presets the paper and its official code use.
// The pipeline (AugmentationPipeline) samples ViewParameters from it and renders views.
import Foundation

/// The parameters of SimCLR's random view distribution.
///
/// Per view, in this order (the official SimCLR order): RandomResizedCrop to `size` x `size`
/// (area fraction in `scale`, aspect ratio in `ratio`, bilinear, antialiased when shrinking),
/// horizontal flip with `flipProbability`, with `jitterProbability` ColorJitter(0.8 s, 0.8 s,
/// 0.8 s, 0.2 s) with its four ops in random order, grayscale with `grayscaleProbability`,
/// Gaussian blur with `blurProbability` if `blur`, solarize with `solarizeProbability` if `solarize`,
/// then Normalize(`mean`, `std`) into Float32.
public struct AugmentationConfig: Sendable, Codable, Equatable {
    /// Side of the square output views, in pixels.
    public var size: Int
    /// Range of the crop's area as a fraction of the image area (torchvision default 0.08 ... 1).
    public var scale: ClosedRange<Double>
    /// Range of the crop's aspect ratio width / height (default 3/4 ... 4/3), sampled log-uniformly.
    public var ratio: ClosedRange<Double>
    /// Probability of a horizontal flip.
    public var flipProbability: Float
    /// Colour-jitter strength s: brightness, contrast, saturation 0.8 s, hue 0.2 s.
    public var jitterStrength: Float
    /// Probability that colour jitter is applied to a view.
    public var jitterProbability: Float
    /// Probability of converting a view to grayscale (ITU-R 601-2 luma).
    public var grayscaleProbability: Float
    /// Whether Gaussian blur is part of the distribution.
    public var blur: Bool
    /// Probability of blurring a view when `blur` is on.
    public var blurProbability: Float
    /// Range of the blur's standard deviation, in pixels.
    public var blurSigma: ClosedRange<Float>
    /// Whether solarization is part of the distribution.
    public var solarize: Bool
    /// Solarization threshold: values >= threshold become 255 - value.
    public var solarizeThreshold: Int
    /// Probability of solarizing a view when `solarize` is on.
    public var solarizeProbability: Float
    /// Per-channel mean (RGB) subtracted after scaling to [0, 1].
    public var mean: [Float]
    /// Per-channel standard deviation (RGB) divided by after subtracting the mean.
    public var std: [Float]
    /// Views per image (2 for SimCLR).
    public var views: Int

    public init(
        size: Int, scale: ClosedRange<Double> = 0.08...1.0, ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0),
        flipProbability: Float = 0.5, jitterStrength: Float = 1.0, jitterProbability: Float = 0.8,
        grayscaleProbability: Float = 0.2, blur: Bool = true, blurProbability: Float = 0.5,
        blurSigma: ClosedRange<Float> = 0.1...2.0, solarize: Bool = false, solarizeThreshold: Int = 128,
        solarizeProbability: Float = 0.2, mean: [Float] = AugmentationConfig.imageNetMean,
        std: [Float] = AugmentationConfig.imageNetStd, views: Int = 2
    ) {
        self.size = size
        self.scale = scale
        self.ratio = ratio
        self.flipProbability = flipProbability
        self.jitterStrength = jitterStrength
        self.jitterProbability = jitterProbability
        self.grayscaleProbability = grayscaleProbability
        self.blur = blur
        self.blurProbability = blurProbability
        self.blurSigma = blurSigma
        self.solarize = solarize
        self.solarizeThreshold = solarizeThreshold
        self.solarizeProbability = solarizeProbability
        self.mean = mean
        self.std = std
        self.views = views
    }

    public static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imageNetStd: [Float] = [0.229, 0.224, 0.225]
    public static let cifarMean: [Float] = [0.4914, 0.4822, 0.4465]
    public static let cifarStd: [Float] = [0.2470, 0.2435, 0.2616]

    /// CIFAR-10 (official SimCLR CIFAR setting): 32 x 32, s = 0.5, no blur, CIFAR mean/std.
    public static func cifar(size: Int = 32, views: Int = 2) -> AugmentationConfig {
        AugmentationConfig(size: size, jitterStrength: 0.5, blur: false,
                           mean: cifarMean, std: cifarStd, views: views)
    }

    /// STL-10: 96 x 96, s = 1.0, blur on (p 0.5), ImageNet mean/std.
    public static func stl10(size: Int = 96, views: Int = 2) -> AugmentationConfig {
        AugmentationConfig(size: size, jitterStrength: 1.0, blur: true, views: views)
    }

    /// Image folders (ImageNet-like): 224 x 224 by default, s = 1.0, blur on (p 0.5), ImageNet mean/std.
    public static func folders(size: Int = 224, views: Int = 2) -> AugmentationConfig {
        AugmentationConfig(size: size, jitterStrength: 1.0, blur: true, views: views)
    }

    /// The odd Gaussian-blur kernel side for this view size: 10% of the side made odd
    /// (2 * (size / 20) + 1, as the official SimCLR code: 3 at 32, 9 at 96, 23 at 224).
    public var blurKernelSize: Int { 2 * (size / 20) + 1 }

    /// Checks the values; throws an `AugmentationError` naming the first bad field.
    public func validate() throws {
        func bad(_ field: String, _ value: Any, _ expected: String) -> AugmentationError {
            .invalidConfig(field: field, value: "\(value)", expected: expected)
        }
        func isProbability(_ p: Float) -> Bool { p >= 0 && p <= 1 }
        guard size >= 1 else { throw bad("size", size, "a positive view side") }
        guard scale.lowerBound > 0, scale.upperBound <= 1 else { throw bad("scale", scale, "a range inside (0, 1]") }
        guard ratio.lowerBound > 0 else { throw bad("ratio", ratio, "a range of positive aspect ratios") }
        guard isProbability(flipProbability) else { throw bad("flipProbability", flipProbability, "a probability in [0, 1]") }
        guard jitterStrength >= 0, jitterStrength <= 2.5 else {
            throw bad("jitterStrength", jitterStrength, "a strength s in [0, 2.5] (hue 0.2 s must stay <= 0.5)")
        }
        guard isProbability(jitterProbability) else { throw bad("jitterProbability", jitterProbability, "a probability in [0, 1]") }
        guard isProbability(grayscaleProbability) else {
            throw bad("grayscaleProbability", grayscaleProbability, "a probability in [0, 1]")
        }
        guard isProbability(blurProbability) else { throw bad("blurProbability", blurProbability, "a probability in [0, 1]") }
        guard blurSigma.lowerBound > 0 else { throw bad("blurSigma", blurSigma, "a range of positive sigmas") }
        guard (0...256).contains(solarizeThreshold) else {
            throw bad("solarizeThreshold", solarizeThreshold, "a threshold in 0 ... 256")
        }
        guard isProbability(solarizeProbability) else {
            throw bad("solarizeProbability", solarizeProbability, "a probability in [0, 1]")
        }
        guard mean.count == 3 else { throw bad("mean", mean, "3 values (R, G, B)") }
        guard std.count == 3, std.allSatisfy({ $0 > 0 }) else { throw bad("std", std, "3 positive values (R, G, B)") }
        guard views >= 1 else { throw bad("views", views, "at least 1 view per image") }
    }
}

/// Errors of the augmentation pipeline and loader configuration.
public enum AugmentationError: LocalizedError, Equatable {
    case invalidConfig(field: String, value: String, expected: String)
    case emptyImage(index: Int, width: Int, height: Int)

    public var errorDescription: String? {
        switch self {
        case .invalidConfig(let field, let value, let expected):
            return "augmentation config: \(field) = \(value); expected \(expected)"
        case .emptyImage(let index, let width, let height):
            return "image \(index) is \(width)x\(height); expected at least 1x1 pixels"
        }
    }
}
