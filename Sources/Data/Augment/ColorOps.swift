// Colour operations on interleaved 8-bit RGB pixels, in place, with torchvision v1's PIL semantics
// (torchvision.transforms.functional on PIL images -> PIL.ImageEnhance / Image.convert):
//
//   brightness  blend(black, img, f)                 out = trunc(clamp(f * v))
//   contrast    blend(mean gray level, img, f)       out = trunc(clamp(m + f * (v - m)))
//   saturation  blend(grayscale(img), img, f)        out = trunc(clamp(g + f * (v - g)))
//   hue         RGB -> HSV (uint8), H += trunc(255 h) mod 256, HSV -> RGB
//   grayscale   L = (19595 R + 38470 G + 7471 B + 2^15) >> 16   (ITU-R 601-2 luma, fixed point)
//   solarize    v >= threshold ? 255 - v : v
//
// Every op rounds to uint8 like PIL does, with PIL's float/double arithmetic, so each matches
// torchvision's output exactly (checked exhaustively against Pillow for the colour conversions).
// The blend factor is a Float (PIL casts it to C float).

enum ColorOps {
    /// ITU-R 601-2 luma in Pillow's 16-bit fixed point.
    @inline(__always) static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int32 {
        (Int32(r) &* 19595 &+ Int32(g) &* 38470 &+ Int32(b) &* 7471 &+ 0x8000) >> 16
    }

    /// Pillow's ImagingBlend for one sample: in1 + alpha * (in2 - in1) in float, clamped, truncated.
    @inline(__always) static func blend(_ in1: Int32, _ in2: Int32, _ alpha: Float) -> UInt8 {
        let t = Float(in1) + alpha * Float(in2 &- in1)
        if t <= 0 { return 0 }
        if t >= 255 { return 255 }
        return UInt8(t)
    }

    /// Applies a 256-entry table to every byte.
    static func applyTable(_ pixels: UnsafeMutableBufferPointer<UInt8>, _ table: UnsafePointer<UInt8>) {
        for i in 0..<pixels.count { pixels[i] = table[Int(pixels[i])] }
    }

    /// Brightness: out = trunc(clamp(factor * v)) (PIL ImageEnhance.Brightness).
    static func adjustBrightness(_ pixels: UnsafeMutableBufferPointer<UInt8>, factor: Float) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { table in
            for v in 0..<256 { table[v] = blend(0, Int32(v), factor) }
            applyTable(pixels, UnsafePointer(table.baseAddress!))
        }
    }

    /// Contrast: blend with the mean grayscale level m = round(mean(L)) (PIL ImageEnhance.Contrast).
    static func adjustContrast(_ pixels: UnsafeMutableBufferPointer<UInt8>, factor: Float) {
        let n = pixels.count / 3
        guard n > 0 else { return }
        var sum = 0
        for p in 0..<n {
            sum += Int(luma(pixels[3 * p], pixels[3 * p + 1], pixels[3 * p + 2]))
        }
        let mean = Int32(Double(sum) / Double(n) + 0.5)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { table in
            for v in 0..<256 { table[v] = blend(mean, Int32(v), factor) }
            applyTable(pixels, UnsafePointer(table.baseAddress!))
        }
    }

    /// Saturation: blend every pixel with its own luma (PIL ImageEnhance.Color).
    static func adjustSaturation(_ pixels: UnsafeMutableBufferPointer<UInt8>, factor: Float) {
        let n = pixels.count / 3
        for p in 0..<n {
            let r = pixels[3 * p], g = pixels[3 * p + 1], b = pixels[3 * p + 2]
            let l = luma(r, g, b)
            pixels[3 * p] = blend(l, Int32(r), factor)
            pixels[3 * p + 1] = blend(l, Int32(g), factor)
            pixels[3 * p + 2] = blend(l, Int32(b), factor)
        }
    }

    /// The hue shift in uint8 HSV units: torchvision's np.int8(hue_factor * 255) (truncation).
    static func hueShift(factor: Float) -> UInt8 {
        UInt8(truncatingIfNeeded: Int(Double(factor) * 255.0))
    }

    /// Hue: shift H of PIL's uint8 HSV by trunc(255 * factor) (mod 256), factor in [-0.5, 0.5].
    /// Even a zero shift changes colours slightly: the uint8 HSV round trip is lossy, as in torchvision.
    static func adjustHue(_ pixels: UnsafeMutableBufferPointer<UInt8>, factor: Float) {
        let shift = hueShift(factor: factor)
        let n = pixels.count / 3
        quotient.withUnsafeBufferPointer { qb in
            hueSector.withUnsafeBufferPointer { hb in
                saturationFraction.withUnsafeBufferPointer { fb in
                    let q = qb.baseAddress!, sectors = hb.baseAddress!, fractions = fb.baseAddress!
                    for p in 0..<n {
                        let r = pixels[3 * p], g = pixels[3 * p + 1], b = pixels[3 * p + 2]
                        let maxc = max(r, max(g, b)), minc = min(r, min(g, b))
                        if maxc == minc { continue }  // s = 0: HSV -> RGB gives back (v, v, v)
                        let (h, s) = hueSaturation(r, g, b, maxc, minc, q)
                        let (r2, g2, b2) = hsvToRGB(h &+ shift, s, maxc, sectors, fractions)
                        pixels[3 * p] = r2
                        pixels[3 * p + 1] = g2
                        pixels[3 * p + 2] = b2
                    }
                }
            }
        }
    }

    /// Exact float quotients a / b for 0 <= a <= b <= 255, b > 0 (quotient[b * 256 + a]): the same
    /// correctly rounded values as dividing, without a division per pixel.
    static let quotient: [Float] = {
        var q = [Float](repeating: 0, count: 256 * 256)
        for b in 1..<256 { for a in 0...b { q[b * 256 + a] = Float(a) / Float(b) } }
        return q
    }()

    /// Per hue byte h: (i, f) of Pillow's hsv2rgb, i = floor(h * 6 / 255), f = Float(h * 6 / 255 - i).
    static let hueSector: [(Int, Float)] = (0..<256).map { h in
        let hd = Double(Float(h)) * 6.0 / 255.0
        let i = Int(hd)  // hd >= 0: truncation is floor
        return (i, Float(hd - Double(Float(i))))
    }

    /// Per saturation byte s: Float(s / 255.0), as Pillow's hsv2rgb computes it.
    static let saturationFraction: [Float] = (0..<256).map { Float(Double(Float($0)) / 255.0) }

    /// Pillow's rgb2hsv (H and S; V = max), float/double exactly as in Convert.c. Requires max > min.
    @inline(__always) static func hueSaturation(
        _ r: UInt8, _ g: UInt8, _ b: UInt8, _ maxc: UInt8, _ minc: UInt8, _ quotient: UnsafePointer<Float>
    ) -> (UInt8, UInt8) {
        let row = quotient + Int(maxc - minc) * 256
        let s = quotient[Int(maxc) * 256 + Int(maxc - minc)]  // cr / maxc
        let rc = row[Int(maxc - r)]
        let gc = row[Int(maxc - g)]
        let bc = row[Int(maxc - b)]
        var h: Float
        if r == maxc {
            h = bc - gc
        } else if g == maxc {
            h = Float(2.0 + Double(rc) - Double(bc))
        } else {
            h = Float(4.0 + Double(gc) - Double(rc))
        }
        let x = Double(h) / 6.0 + 1.0  // in [0.83, 1.84]: fmod(x, 1) = x - trunc(x), exactly
        h = Float(x - Double(Int(x)))
        let uh = clampToByte(Int(Double(h) * 255.0))
        let us = clampToByte(Int(Double(s) * 255.0))
        return (uh, us)
    }

    @inline(__always) static func clampToByte(_ v: Int) -> UInt8 {
        v < 0 ? 0 : v > 255 ? 255 : UInt8(v)
    }

    /// Pillow's hsv2rgb for one pixel (float/double exactly as in Convert.c). C's round() is taken as
    /// Int(x + 0.5): the arguments are >= 0, and this equals round() for every (h, s, v) (checked
    /// exhaustively against Pillow).
    @inline(__always) static func hsvToRGB(
        _ h: UInt8, _ s: UInt8, _ v: UInt8, _ sectors: UnsafePointer<(Int, Float)>, _ fractions: UnsafePointer<Float>
    ) -> (UInt8, UInt8, UInt8) {
        if s == 0 { return (v, v, v) }
        let (i, f) = sectors[Int(h)]
        let fs = fractions[Int(s)]
        let vd = Double(Float(v))
        let p = clampToByte(Int(vd * (1.0 - Double(fs)) + 0.5))
        let q = clampToByte(Int(vd * (1.0 - Double(fs * f)) + 0.5))
        let t = clampToByte(Int(vd * (1.0 - Double(fs) * (1.0 - Double(f))) + 0.5))
        switch i {
        case 0, 6: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }

    /// Grayscale with 3 equal channels: R = G = B = L (torchvision rgb_to_grayscale(img, 3) on PIL).
    static func grayscale(_ pixels: UnsafeMutableBufferPointer<UInt8>) {
        let n = pixels.count / 3
        for p in 0..<n {
            let l = UInt8(truncatingIfNeeded: luma(pixels[3 * p], pixels[3 * p + 1], pixels[3 * p + 2]))
            pixels[3 * p] = l
            pixels[3 * p + 1] = l
            pixels[3 * p + 2] = l
        }
    }

    /// Solarize: values >= threshold become 255 - value (PIL ImageOps.solarize).
    static func solarize(_ pixels: UnsafeMutableBufferPointer<UInt8>, threshold: Int) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { table in
            for v in 0..<256 { table[v] = v < threshold ? UInt8(v) : UInt8(255 - v) }
            applyTable(pixels, UnsafePointer(table.baseAddress!))
        }
    }
}
