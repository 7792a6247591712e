// ViewRenderer: renders sampled views (or evaluation views) of 8-bit images, either as RGBImage
// or normalised straight into a Float32 CHW slot of a batch tensor. Owns its scratch buffers, so
// rendering allocates nothing per view; not thread-safe: use one renderer per thread.

/// Renders views with reusable buffers; one instance per thread.
public final class ViewRenderer {
    public let pipeline: AugmentationPipeline
    /// Side of the rendered views.
    public var size: Int { pipeline.config.size }

    private let resample = ResampleScratch()
    private let blur = BlurScratch()
    /// The current view, interleaved RGB, size x size.
    private let view: UnsafeMutableBufferPointer<UInt8>
    /// Normalisation tables: table[c * 256 + v] = (v / 255 - mean[c]) / std[c] in Float32.
    private let table: UnsafeMutableBufferPointer<Float>

    public init(pipeline: AugmentationPipeline) {
        self.pipeline = pipeline
        let s = pipeline.config.size
        view = .allocate(capacity: s * s * 3)
        view.initialize(repeating: 0)
        table = .allocate(capacity: 3 * 256)
        for c in 0..<3 {
            let m = pipeline.config.mean[c], d = pipeline.config.std[c]
            for v in 0..<256 { table[c * 256 + v] = (Float(v) / 255 - m) / d }
        }
    }

    deinit {
        view.deallocate()
        table.deallocate()
    }

    // MARK: uint8 rendering

    /// Renders view `parameters` of the width x height image at `pixels` into the internal buffer.
    /// Op order: crop + resize + flip, colour jitter (in `jitter.order`), grayscale, blur, solarize.
    func renderBytes(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int, _ parameters: ViewParameters) {
        let s = size
        let crop = parameters.crop
        precondition(crop.top >= 0 && crop.left >= 0 && crop.width >= 1 && crop.height >= 1
                     && crop.top + crop.height <= height && crop.left + crop.width <= width,
                     "ViewRenderer: crop \(crop) outside \(width)x\(height)")
        Resample.resizedCrop(src: pixels, srcWidth: width, crop: crop, outWidth: s, outHeight: s,
                             columns: 0..<s, rowsWindow: 0..<s, flip: parameters.flip,
                             dst: view.baseAddress!, scratch: resample)
        if let j = parameters.jitter {
            for k in 0..<4 {
                switch j.order[k] {
                case 0: ColorOps.adjustBrightness(view, factor: j.brightness)
                case 1: ColorOps.adjustContrast(view, factor: j.contrast)
                case 2: ColorOps.adjustSaturation(view, factor: j.saturation)
                default: ColorOps.adjustHue(view, factor: j.hue)
                }
            }
        }
        if parameters.grayscale { ColorOps.grayscale(view) }
        if let sigma = parameters.blurSigma {
            GaussianBlur.apply(view, width: s, height: s, kernelSize: pipeline.config.blurKernelSize, sigma: sigma,
                               scratch: blur)
        }
        if parameters.solarize { ColorOps.solarize(view, threshold: pipeline.config.solarizeThreshold) }
    }

    /// Renders the evaluation view (Resize(size) of the shorter side + CenterCrop(size); a plain copy
    /// when the image is already size x size) into the internal buffer.
    func renderEvaluationBytes(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int) {
        let g = AugmentationPipeline.evaluationGeometry(width: width, height: height, size: size)
        Resample.resizedCrop(src: pixels, srcWidth: width, crop: CropBox(top: 0, left: 0, height: height, width: width),
                             outWidth: g.width, outHeight: g.height, columns: g.columns, rowsWindow: g.rows,
                             flip: false, dst: view.baseAddress!, scratch: resample)
    }

    /// Resizes the whole image to size x size (aspect not kept), into the internal buffer (previews).
    func renderResizedBytes(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int) {
        Resample.resizedCrop(src: pixels, srcWidth: width, crop: CropBox(top: 0, left: 0, height: height, width: width),
                             outWidth: size, outHeight: size, columns: 0..<size, rowsWindow: 0..<size,
                             flip: false, dst: view.baseAddress!, scratch: resample)
    }

    /// The internal buffer as an image.
    private func currentImage() -> RGBImage {
        RGBImage(width: size, height: size, pixels: Array(view))
    }

    /// The uint8 view `parameters` of `image` (before normalisation), size x size.
    public func render(_ image: RGBImage, _ parameters: ViewParameters) -> RGBImage {
        image.pixels.withUnsafeBufferPointer {
            renderBytes($0.baseAddress!, width: image.width, height: image.height, parameters)
        }
        return currentImage()
    }

    /// The uint8 evaluation view of `image` (Resize + CenterCrop to size x size).
    public func renderEvaluation(_ image: RGBImage) -> RGBImage {
        image.pixels.withUnsafeBufferPointer {
            renderEvaluationBytes($0.baseAddress!, width: image.width, height: image.height)
        }
        return currentImage()
    }

    /// `image` resized to size x size as a whole (for previews).
    public func renderResized(_ image: RGBImage) -> RGBImage {
        image.pixels.withUnsafeBufferPointer {
            renderResizedBytes($0.baseAddress!, width: image.width, height: image.height)
        }
        return currentImage()
    }

    // MARK: Float32 rendering

    /// Writes the internal buffer normalised, as 3 x size x size Float32 planes (CHW), to `out`:
    /// out[c, y, x] = (v / 255 - mean[c]) / std[c].
    func writeNormalized(to out: UnsafeMutablePointer<Float>) {
        let plane = size * size
        let t = table.baseAddress!, v = view.baseAddress!
        let r = out, g = out + plane, b = out + 2 * plane
        let tg = t + 256, tb = t + 512
        for p in 0..<plane {
            r[p] = t[Int(v[3 * p])]
            g[p] = tg[Int(v[3 * p + 1])]
            b[p] = tb[Int(v[3 * p + 2])]
        }
    }

    /// Renders view `parameters` of `image` normalised into `out` (3 x size x size floats, CHW).
    public func render(_ image: RGBImage, _ parameters: ViewParameters, into out: UnsafeMutablePointer<Float>) {
        image.pixels.withUnsafeBufferPointer {
            renderBytes($0.baseAddress!, width: image.width, height: image.height, parameters)
        }
        writeNormalized(to: out)
    }

    /// Renders the evaluation view of `image` normalised into `out` (3 x size x size floats, CHW).
    public func renderEvaluation(_ image: RGBImage, into out: UnsafeMutablePointer<Float>) {
        image.pixels.withUnsafeBufferPointer {
            renderEvaluationBytes($0.baseAddress!, width: image.width, height: image.height)
        }
        writeNormalized(to: out)
    }
}
