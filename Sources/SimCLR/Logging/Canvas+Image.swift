// Pasting images onto a `Canvas` (the neighbour picture's tiles).
import Data

extension Canvas {
    /// Copies `image` with its top-left corner at (x, y), clipped to the canvas.
    mutating func paste(_ image: RGBImage, x: Int, y: Int) {
        let w = width, h = height
        pixels.withUnsafeMutableBufferPointer { dst in
            image.pixels.withUnsafeBufferPointer { src in
                for row in 0..<image.height where (0..<h).contains(y + row) {
                    for col in 0..<image.width where (0..<w).contains(x + col) {
                        let s = (row * image.width + col) * 3, d = ((y + row) * w + x + col) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
    }

    /// A `thickness`-pixel frame just outside the rectangle (x, y, w, h).
    mutating func frame(x: Int, y: Int, w: Int, h: Int, thickness t: Int, _ c: PlotColor) {
        fill(x: x - t, y: y - t, w: w + 2 * t, h: t, c)
        fill(x: x - t, y: y + h, w: w + 2 * t, h: t, c)
        fill(x: x - t, y: y, w: t, h: h, c)
        fill(x: x + w, y: y, w: t, h: h, c)
    }
}
