// Gaussian blur of 8-bit RGB images: torchvision's gaussian_blur (odd kernel k, sigma, reflect
// padding, result rounded half-to-even to uint8), computed separably in Float32.
//
// torchvision convolves with the 2-D outer-product kernel in one pass; we run the two 1-D passes
// (k + k instead of k * k multiply-adds). The sums are the same up to Float32 rounding order, so a
// value can land on the other side of a .5 boundary: outputs agree within 1 uint8 level.
import Foundation

/// Reusable Float32 buffers for the blur (one per rendering thread).
final class BlurScratch {
    var kernel: [Float] = []
    var horizontal: [Float] = []
    var input: [Float] = []
}

enum GaussianBlur {
    /// The normalised 1-D kernel: exp(-x^2 / (2 sigma^2)) at x = -(k-1)/2 ... (k-1)/2, divided by its sum.
    static func kernel(size k: Int, sigma: Float, into kernel: inout [Float]) {
        precondition(k >= 1 && k % 2 == 1 && sigma > 0, "GaussianBlur: kernel \(k), sigma \(sigma)")
        kernel.removeAll(keepingCapacity: true)
        let half = Float(k - 1) * 0.5
        var sum: Float = 0
        for i in 0..<k {
            let x = (Float(i) - half) / sigma
            let v = Foundation.exp(-0.5 * x * x)
            kernel.append(v)
            sum += v
        }
        for i in 0..<k { kernel[i] /= sum }
    }

    /// Reflect (mirror without repeating the edge) index into 0 ..< n, as torch's "reflect" padding.
    @inline(__always) static func reflect(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        let period = 2 * (n - 1)
        var j = i % period
        if j < 0 { j += period }
        return j < n ? j : period - j
    }

    /// Blurs `pixels` (interleaved RGB, width x height) in place with a k x k Gaussian of std `sigma`.
    static func apply(
        _ pixels: UnsafeMutableBufferPointer<UInt8>, width: Int, height: Int, kernelSize k: Int, sigma: Float,
        scratch: BlurScratch
    ) {
        let n = width * height * 3
        precondition(pixels.count == n, "GaussianBlur: \(pixels.count) bytes for \(width)x\(height)")
        kernel(size: k, sigma: sigma, into: &scratch.kernel)
        if scratch.horizontal.count < n { scratch.horizontal = [Float](repeating: 0, count: n) }
        if scratch.input.count < n { scratch.input = [Float](repeating: 0, count: n) }
        let r = k / 2
        scratch.kernel.withUnsafeBufferPointer { kb in
            scratch.input.withUnsafeMutableBufferPointer { inb in
                scratch.horizontal.withUnsafeMutableBufferPointer { hb in
                    let w = kb.baseAddress!, src = inb.baseAddress!, tmp = hb.baseAddress!
                    for i in 0..<n { src[i] = Float(pixels[i]) }
                    // Horizontal pass, 3 channels interleaved.
                    for y in 0..<height {
                        let row = src + y * width * 3, out = tmp + y * width * 3
                        for x in 0..<width {
                            var a0: Float = 0, a1: Float = 0, a2: Float = 0
                            if x >= r && x + r < width {
                                var p = row + (x - r) * 3
                                for t in 0..<k {
                                    let c = w[t]
                                    a0 += c * p[0]; a1 += c * p[1]; a2 += c * p[2]
                                    p += 3
                                }
                            } else {
                                for t in 0..<k {
                                    let p = row + reflect(x - r + t, width) * 3
                                    let c = w[t]
                                    a0 += c * p[0]; a1 += c * p[1]; a2 += c * p[2]
                                }
                            }
                            out[x * 3] = a0; out[x * 3 + 1] = a1; out[x * 3 + 2] = a2
                        }
                    }
                    // Vertical pass over whole rows (the input rows are no longer needed: each
                    // serves as the accumulator of its output row), rounded half-to-even to uint8.
                    let rowFloats = width * 3
                    for y in 0..<height {
                        let acc = src + y * rowFloats
                        acc.update(repeating: 0, count: rowFloats)
                        for t in 0..<k {
                            let c = w[t]
                            let row = tmp + reflect(y - r + t, height) * rowFloats
                            for i in 0..<rowFloats { acc[i] += c * row[i] }
                        }
                        let out = pixels.baseAddress! + y * rowFloats
                        for i in 0..<rowFloats {
                            let v = acc[i].rounded(.toNearestOrEven)
                            out[i] = v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)
                        }
                    }
                }
            }
        }
    }
}
