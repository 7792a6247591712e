// A built-in, procedurally generated labelled dataset: the offline default for demos and tests.
//
// Each image is a two-colour texture over a colour gradient. The class is the texture's
// *kind* (stripes, checkerboard, dots, ...), never its colour, size, position or angle, which
// are all random per image. Textures repeat over the whole frame, so the class survives
// SimCLR's augmentations (random crops of 8-100% area, flips, colour jitter, grayscale): the
// foreground and background colours are drawn with a luminance gap, so the pattern stays
// visible in grayscale too. Images are rendered lazily from (seed, index), at any resolution,
// with 2x2 supersampling for clean edges.
import Foundation

/// Procedural texture classes, deterministic from (seed, index), at any resolution.
public struct SyntheticDataset: ImageDataset {
    /// The texture kinds, in label order.
    public static let textureNames = [
        "stripes", "checkerboard", "dots", "rings", "grid", "triangles", "crosses", "waves", "mosaic", "pinwheel",
    ]

    public let name: String
    public let count: Int
    /// Side length of the square images.
    public let resolution: Int
    /// The seed the images are generated from.
    public let seed: UInt64
    public var classNames: [String] { SyntheticDataset.textureNames }

    /// - Parameters:
    ///   - count: number of images (labels cycle through the 10 classes, so they are balanced).
    ///   - resolution: image side in pixels (>= 8).
    ///   - seed: generation seed; use different seeds for training and validation sets.
    public init(count: Int, resolution: Int = 32, seed: UInt64 = 0, name: String? = nil) throws {
        guard count > 0 else {
            throw DatasetError.invalidOption(name: "synthetic image count", value: String(count), expected: "a positive number")
        }
        guard resolution >= 8 && resolution <= 1024 else {
            throw DatasetError.invalidOption(name: "synthetic resolution", value: String(resolution), expected: "a side in 8...1024 pixels")
        }
        self.count = count
        self.resolution = resolution
        self.seed = seed
        self.name = name ?? "synthetic/\(resolution)px-seed\(seed)"
    }

    /// The class of image `index`: `index % 10`.
    public func label(at index: Int) -> Int? {
        precondition(index >= 0 && index < count, "synthetic index \(index) out of 0..<\(count)")
        return index % SyntheticDataset.textureNames.count
    }

    public func image(at index: Int) throws -> RGBImage {
        precondition(index >= 0 && index < count, "synthetic index \(index) out of 0..<\(count)")
        return SyntheticDataset.render(kind: index % SyntheticDataset.textureNames.count, resolution: resolution,
                                       rng: RandomState(seed: seed, UInt64(index)))
    }

    /// Relative luminance (Rec. 601 weights, as torchvision's grayscale) of an RGB triple in [0, 1].
    static func luminance(_ c: SIMD3<Float>) -> Float { 0.299 * c.x + 0.587 * c.y + 0.114 * c.z }

    /// Renders one texture of `kind` with parameters drawn from `rng`.
    static func render(kind: Int, resolution n: Int, rng: RandomState) -> RGBImage {
        var rng = rng
        // Colours: foreground and a two-colour background gradient, with a luminance gap >= 0.3.
        let fg = SIMD3<Float>(rng.uniform(), rng.uniform(), rng.uniform())
        var bg0 = SIMD3<Float>(rng.uniform(), rng.uniform(), rng.uniform())
        var tries = 0
        while abs(luminance(bg0) - luminance(fg)) < 0.3 && tries < 32 {
            bg0 = SIMD3<Float>(rng.uniform(), rng.uniform(), rng.uniform())
            tries += 1
        }
        if abs(luminance(bg0) - luminance(fg)) < 0.3 { bg0 = luminance(fg) > 0.5 ? SIMD3(0.05, 0.05, 0.05) : SIMD3(0.95, 0.95, 0.95) }
        let shift = SIMD3<Float>(rng.uniform(-0.12, 0.12), rng.uniform(-0.12, 0.12), rng.uniform(-0.12, 0.12))
        let bg1 = simd_clamp01(bg0 + shift)
        let gradAngle = rng.uniform(0, 2 * .pi)
        let gdx = cos(gradAngle), gdy = sin(gradAngle)

        // Geometry: cell size 12-30% of the side, any rotation, random centre and lattice phase.
        let cell = Float(n) * rng.uniform(0.12, 0.30)
        let angle = rng.uniform(0, 2 * .pi)
        let ca = cos(angle) / cell, sa = sin(angle) / cell
        let cx = Float(n) * rng.uniform(0.2, 0.8), cy = Float(n) * rng.uniform(0.2, 0.8)
        let phaseX = rng.uniform(), phaseY = rng.uniform()
        let sectors = Float(6 + Int(rng.next() % 5))  // pinwheel blades
        let mosaicKey = rng.next()
        let noiseKey = rng.next()

        var pixels = [UInt8](repeating: 0, count: n * n * 3)
        let inv = 1 / Float(n)
        pixels.withUnsafeMutableBufferPointer { out in
            for y in 0..<n {
                for x in 0..<n {
                    var cover: Float = 0
                    // 2x2 supersampling at quarter-pixel offsets.
                    for s in 0..<4 {
                        let qx = Float(x) + (s & 1 == 0 ? 0.25 : 0.75) - cx
                        let qy = Float(y) + (s < 2 ? 0.25 : 0.75) - cy
                        let px = ca * qx - sa * qy
                        let py = sa * qx + ca * qy
                        if inside(kind: kind, px: px, py: py, phaseX: phaseX, phaseY: phaseY, sectors: sectors, key: mosaicKey) {
                            cover += 0.25
                        }
                    }
                    let t = max(0, min(1, 0.5 + ((Float(x) * inv - 0.5) * gdx + (Float(y) * inv - 0.5) * gdy)))
                    let bg = bg0 + (bg1 - bg0) * t
                    var c = bg + (fg - bg) * cover
                    // Mild deterministic per-pixel noise (+-3/255).
                    let h = splitMix64(of: noiseKey ^ UInt64(y * n + x))
                    c += Float(Int(h % 7) - 3) / 255
                    let o = (y * n + x) * 3
                    out[o] = UInt8(max(0, min(255, (c.x * 255).rounded())))
                    out[o + 1] = UInt8(max(0, min(255, (c.y * 255).rounded())))
                    out[o + 2] = UInt8(max(0, min(255, (c.z * 255).rounded())))
                }
            }
        }
        return RGBImage(width: n, height: n, pixels: pixels)
    }

    @inline(__always)
    static func inside(kind: Int, px: Float, py: Float, phaseX: Float, phaseY: Float, sectors: Float, key: UInt64) -> Bool {
        let lx = px + phaseX, ly = py + phaseY
        let fx = lx - lx.rounded(.down), fy = ly - ly.rounded(.down)
        switch kind {
        case 0:  // stripes
            return fx < 0.5
        case 1:  // checkerboard
            return (Int(lx.rounded(.down)) + Int(ly.rounded(.down))) & 1 == 0
        case 2:  // dots
            let dx = fx - 0.5, dy = fy - 0.5
            return dx * dx + dy * dy < 0.09
        case 3:  // concentric rings about the centre
            let r = (px * px + py * py).squareRoot() + phaseX
            return r - r.rounded(.down) < 0.5
        case 4:  // thin grid lines
            return fx < 0.22 || fy < 0.22
        case 5:  // triangles: apex (0.5, 0.15), base y = 0.85, half-width 0.35
            return fy > 0.15 && fy < 0.85 && abs(fx - 0.5) < 0.5 * (fy - 0.15)
        case 6:  // plus-shaped crosses
            let ax = abs(fx - 0.5), ay = abs(fy - 0.5)
            return (ax < 0.13 && ay < 0.38) || (ay < 0.13 && ax < 0.38)
        case 7:  // wavy stripes, wavelength two cells
            let w = ly + 0.35 * sin(Float.pi * lx)
            return w - w.rounded(.down) < 0.5
        case 8:  // mosaic: each cell on or off at random
            let ix = UInt64(bitPattern: Int64(lx.rounded(.down))), iy = UInt64(bitPattern: Int64(ly.rounded(.down)))
            return splitMix64(of: key ^ (ix &* splitMix64Gamma) ^ (iy &* 0xC2B2_AE3D_27D4_EB4F)) & 1 == 0
        default:  // pinwheel: alternating angular sectors about the centre
            let a = (atan2(py, px) / (2 * .pi) + 0.5) * sectors + phaseX
            return a - a.rounded(.down) < 0.5
        }
    }
}

@inline(__always)
private func simd_clamp01(_ v: SIMD3<Float>) -> SIMD3<Float> {
    SIMD3(max(0, min(1, v.x)), max(0, min(1, v.y)), max(0, min(1, v.z)))
}
