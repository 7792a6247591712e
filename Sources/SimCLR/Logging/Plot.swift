// curves.png: a small line-chart rasteriser with no plotting library. Panels are stacked
// vertically; each has a title, axes with "nice" ticks (1, 2, 5 x 10^k) and numeric tick labels,
// light grid lines, axis titles (the y title rotated), anti-aliased polylines (coverage from the
// pixel centre's distance to each segment), optional round markers for sparse series (kNN), and a
// legend placed in the emptiest corner. Text uses a built-in 5 x 7 bitmap font (digits, capital
// letters, a few signs; lower-case letters are drawn as capitals). The result is an `RGBImage`
// written with `PNGCodec`.

import Data
import Foundation

/// An 8-bit RGB colour.
public struct PlotColor: Equatable, Sendable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    public static let white = PlotColor(255, 255, 255)
    public static let black = PlotColor(0, 0, 0)
    /// Distinct series colours (blue, orange, green, red, purple, brown).
    public static let palette = [PlotColor(31, 119, 180), PlotColor(255, 127, 14), PlotColor(44, 160, 44),
                                 PlotColor(214, 39, 40), PlotColor(148, 103, 189), PlotColor(140, 86, 75)]
}

/// One named line of a panel; points with a non-finite coordinate break the line.
public struct PlotSeries: Sendable {
    public var name: String
    public var points: [PlotPoint]
    public var color: PlotColor?
    /// Draw a dot at every point (for series measured only now and then).
    public var markers: Bool

    public init(name: String, points: [PlotPoint], color: PlotColor? = nil, markers: Bool = false) {
        self.name = name
        self.points = points
        self.color = color
        self.markers = markers
    }
}

/// A data point (x, y).
public struct PlotPoint: Equatable, Sendable {
    public var x: Double, y: Double
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// One chart: title, axis titles, series.
public struct PlotPanel: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [PlotSeries]

    public init(title: String, xLabel: String, yLabel: String, series: [PlotSeries]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }
}

public enum LineChart {
    /// Layout constants (pixels) of a panel: margins around the plotting area.
    static let fontScale = 2
    static let topMargin = 40, bottomMargin = 62, rightMargin = 24

    /// Renders `panels` stacked vertically into a `width` x (panels.count * panelHeight) image.
    public static func render(_ panels: [PlotPanel], width: Int = 960, panelHeight: Int = 400) -> RGBImage {
        precondition(width >= 200 && panelHeight >= 150 && !panels.isEmpty, "LineChart: \(width)x\(panelHeight)")
        var canvas = Canvas(width: width, height: panelHeight * panels.count)
        for (i, panel) in panels.enumerated() {
            drawPanel(panel, on: &canvas, top: i * panelHeight, height: panelHeight)
        }
        return RGBImage(width: canvas.width, height: canvas.height, pixels: canvas.pixels)
    }

    /// Renders and writes a PNG.
    public static func write(_ panels: [PlotPanel], to url: URL, width: Int = 960, panelHeight: Int = 400) throws {
        try PNGCodec.write(render(panels, width: width, panelHeight: panelHeight), to: url)
    }

    /// The plotting-area rectangle (x0, y0, x1, y1; x1 / y1 exclusive) of panel `index` in an image
    /// made by `render` with the same arguments, for tests and annotations.
    public static func plotArea(of panels: [PlotPanel], index: Int, width: Int = 960, panelHeight: Int = 400)
        -> (x0: Int, y0: Int, x1: Int, y1: Int)
    {
        let l = layout(panels[index], top: index * panelHeight, width: width, height: panelHeight)
        return (l.x0, l.y0, l.x1, l.y1)
    }

    /// The panels of curves.png from metrics.jsonl records: loss against step, and accuracies
    /// (contrastive top-1 / top-5 and kNN top-1, all in percent) against step.
    /// Step records are used when there are any, epoch records otherwise; kNN points are markers.
    public static func trainingPanels(_ records: [MetricsRecord]) -> [PlotPanel] {
        let steps = records.filter { $0.kind == .step }
        let curve = steps.isEmpty ? records.filter { $0.kind == .epoch } : steps
        func series(_ name: String, _ value: (MetricsRecord) -> Double?, from rs: [MetricsRecord], markers: Bool = false,
                    color: PlotColor) -> PlotSeries? {
            let pts = rs.compactMap { r in value(r).map { PlotPoint(Double(r.step), $0) } }
            return pts.isEmpty ? nil : PlotSeries(name: name, points: pts, color: color, markers: markers)
        }
        let p = PlotColor.palette
        let loss = [series("NT-Xent loss", { $0.loss }, from: curve, color: p[0])].compactMap { $0 }
        let knn = records.filter { $0.knnTop1 != nil }
        let acc = [
            series("contrastive top-1", { $0.top1.map { 100 * $0 } }, from: curve, color: p[0]),
            series("contrastive top-5", { $0.top5.map { 100 * $0 } }, from: curve, color: p[1]),
            series("kNN top-1", { $0.knnTop1 }, from: knn, markers: true, color: p[3]),
        ].compactMap { $0 }
        return [
            PlotPanel(title: "Training loss", xLabel: "step", yLabel: "loss", series: loss),
            PlotPanel(title: "Accuracy", xLabel: "step", yLabel: "accuracy (%)", series: acc),
        ]
    }

    /// Writes curves.png for `records` (see `trainingPanels`).
    public static func writeTrainingCurves(_ records: [MetricsRecord], to url: URL) throws {
        try write(trainingPanels(records), to: url)
    }

    // MARK: Layout and drawing

    struct Layout {
        var x0: Int, y0: Int, x1: Int, y1: Int
        var xTicks: [Double], yTicks: [Double]
        var xRange: (Double, Double), yRange: (Double, Double)
        var xDecimals: Int, yDecimals: Int
    }

    static func layout(_ panel: PlotPanel, top: Int, width: Int, height: Int) -> Layout {
        let pts = panel.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let (xTicks, xDec) = niceTicks(pts.map(\.x).min() ?? 0, pts.map(\.x).max() ?? 1, target: 8)
        let (yTicks, yDec) = niceTicks(pts.map(\.y).min() ?? 0, pts.map(\.y).max() ?? 1, target: 6)
        let labelWidth = yTicks.map { textWidth(format($0, yDec), scale: fontScale) }.max() ?? 0
        let x0 = 8 + 7 * fontScale + 10 + labelWidth + 8
        return Layout(x0: x0, y0: top + topMargin, x1: width - rightMargin, y1: top + height - bottomMargin,
                      xTicks: xTicks, yTicks: yTicks, xRange: (xTicks.first!, xTicks.last!),
                      yRange: (yTicks.first!, yTicks.last!), xDecimals: xDec, yDecimals: yDec)
    }

    static func drawPanel(_ panel: PlotPanel, on c: inout Canvas, top: Int, height: Int) {
        let l = layout(panel, top: top, width: c.width, height: height)
        let s = fontScale
        let pw = Double(l.x1 - l.x0), ph = Double(l.y1 - l.y0)
        func px(_ x: Double) -> Double { Double(l.x0) + (x - l.xRange.0) / (l.xRange.1 - l.xRange.0) * pw }
        func py(_ y: Double) -> Double { Double(l.y1) - (y - l.yRange.0) / (l.yRange.1 - l.yRange.0) * ph }
        let grid = PlotColor(225, 225, 225), axis = PlotColor(60, 60, 60), text = PlotColor(30, 30, 30)

        // Grid, ticks and tick labels.
        for t in l.xTicks {
            let x = Int(px(t).rounded())
            c.fill(x: x, y: l.y0, w: 1, h: l.y1 - l.y0, grid)
            c.fill(x: x, y: l.y1, w: 1, h: 6, axis)
            let label = format(t, l.xDecimals)
            c.text(label, x: x - textWidth(label, scale: s) / 2, y: l.y1 + 10, scale: s, text)
        }
        for t in l.yTicks {
            let y = Int(py(t).rounded())
            c.fill(x: l.x0, y: y, w: l.x1 - l.x0, h: 1, grid)
            c.fill(x: l.x0 - 6, y: y, w: 6, h: 1, axis)
            let label = format(t, l.yDecimals)
            c.text(label, x: l.x0 - 10 - textWidth(label, scale: s), y: y - 7 * s / 2, scale: s, text)
        }
        // Axes.
        c.fill(x: l.x0, y: l.y0, w: 1, h: l.y1 - l.y0 + 1, axis)
        c.fill(x: l.x0, y: l.y1, w: l.x1 - l.x0, h: 1, axis)
        // Titles.
        c.text(panel.title, x: (l.x0 + l.x1 - textWidth(panel.title, scale: s)) / 2, y: top + 12, scale: s, .black)
        c.text(panel.xLabel, x: (l.x0 + l.x1 - textWidth(panel.xLabel, scale: s)) / 2, y: l.y1 + 36, scale: s, text)
        c.verticalText(panel.yLabel, x: 8, y: (l.y0 + l.y1 + textWidth(panel.yLabel, scale: s)) / 2, scale: s, text)

        // Series, clipped to the plotting area.
        var coverage = [Float](repeating: 0, count: (l.x1 - l.x0) * (l.y1 - l.y0))
        let clip = (l.x0, l.y0, l.x1, l.y1)
        for (k, series) in panel.series.enumerated() {
            let color = series.color ?? PlotColor.palette[k % PlotColor.palette.count]
            for i in coverage.indices { coverage[i] = 0 }
            var prev: (Double, Double)? = nil
            for p in series.points {
                guard p.x.isFinite && p.y.isFinite else { prev = nil; continue }
                let q = (px(p.x), py(p.y))
                if let a = prev { c.segmentCoverage(a, q, halfWidth: 1.1, into: &coverage, clip: clip) }
                if series.markers || series.points.count == 1 {
                    c.segmentCoverage(q, q, halfWidth: 3.5, into: &coverage, clip: clip)
                }
                prev = q
            }
            c.composite(coverage, clip: clip, color)
        }
        drawLegend(panel, layout: l, px: px, py: py, on: &c)
    }

    static func drawLegend(_ panel: PlotPanel, layout l: Layout, px: (Double) -> Double, py: (Double) -> Double,
                           on c: inout Canvas) {
        guard !panel.series.isEmpty else { return }
        let s = fontScale, rowH = 7 * s + 8
        let w = 16 + 28 + 8 + (panel.series.map { textWidth($0.name, scale: s) }.max() ?? 0)
        let h = rowH * panel.series.count + 8
        // The corner whose box covers the fewest data points.
        let corners = [(l.x1 - w - 8, l.y0 + 8), (l.x1 - w - 8, l.y1 - h - 8), (l.x0 + 8, l.y0 + 8), (l.x0 + 8, l.y1 - h - 8)]
        let pts = panel.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }.map { (px($0.x), py($0.y)) }
        let best = corners.min { a, b in
            func hits(_ o: (Int, Int)) -> Int {
                pts.filter { $0.0 >= Double(o.0) && $0.0 <= Double(o.0 + w) && $0.1 >= Double(o.1) && $0.1 <= Double(o.1 + h) }.count
            }
            return hits(a) < hits(b)
        }!
        c.fill(x: best.0, y: best.1, w: w, h: h, PlotColor(180, 180, 180))
        c.fill(x: best.0 + 1, y: best.1 + 1, w: w - 2, h: h - 2, .white)
        for (k, series) in panel.series.enumerated() {
            let color = series.color ?? PlotColor.palette[k % PlotColor.palette.count]
            let y = best.1 + 8 + k * rowH
            c.fill(x: best.0 + 8, y: y + 7 * s / 2 - 1, w: 28, h: 3, color)
            if series.markers { c.fill(x: best.0 + 18, y: y + 7 * s / 2 - 4, w: 8, h: 9, color) }
            c.text(series.name, x: best.0 + 8 + 28 + 8, y: y, scale: s, PlotColor(30, 30, 30))
        }
    }

    /// Ticks at multiples of the 1 / 2 / 5 x 10^k step nearest to (hi - lo) / (target - 1), covering [lo, hi],
    /// and the number of decimals their labels need.
    static func niceTicks(_ lo: Double, _ hi: Double, target: Int) -> ([Double], Int) {
        var lo = lo, hi = hi
        if hi - lo < 1e-12 * max(1, abs(hi)) {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        let raw = (hi - lo) / Double(max(target - 1, 1))
        let mag = pow(10, floor(log10(raw)))
        let frac = raw / mag
        let step = (frac < 1.5 ? 1 : frac < 3.5 ? 2 : frac < 7.5 ? 5 : 10) * mag  // the nearest nice step
        let first = floor(lo / step + 1e-9), last = ceil(hi / step - 1e-9)
        let ticks = stride(from: first, through: last, by: 1).map { $0 * step }
        let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
        return (ticks, decimals)
    }

    static func format(_ v: Double, _ decimals: Int) -> String {
        let s = String(format: "%.\(decimals)f", v)
        return s.hasPrefix("-") && Double(s) == 0 ? String(s.dropFirst()) : s
    }

    static func textWidth(_ s: String, scale: Int) -> Int { max(0, s.count * 6 * scale - scale) }
}

/// An RGB raster with the few drawing operations the charts need.
struct Canvas {
    let width: Int, height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 255, count: width * height * 3)
    }

    mutating func fill(x: Int, y: Int, w: Int, h: Int, _ c: PlotColor) {
        let xa = max(0, x), xb = min(width, x + w), ya = max(0, y), yb = min(height, y + h)
        guard xa < xb && ya < yb else { return }
        pixels.withUnsafeMutableBufferPointer { p in
            for yy in ya..<yb {
                for xx in xa..<xb {
                    let o = (yy * width + xx) * 3
                    p[o] = c.r; p[o + 1] = c.g; p[o + 2] = c.b
                }
            }
        }
    }

    /// Draws `s` with its top-left corner at (x, y), each font pixel a scale x scale block.
    mutating func text(_ s: String, x: Int, y: Int, scale: Int, _ c: PlotColor) {
        for (i, ch) in s.enumerated() {
            let rows = BitmapFont.glyph(ch)
            for (r, bits) in rows.enumerated() {
                for col in 0..<5 where bits & (0x10 >> UInt8(col)) != 0 {
                    fill(x: x + (i * 6 + col) * scale, y: y + r * scale, w: scale, h: scale, c)
                }
            }
        }
    }

    /// Draws `s` rotated 90 degrees counter-clockwise (reading bottom to top), starting at
    /// (x, y) = its bottom-left corner.
    mutating func verticalText(_ s: String, x: Int, y: Int, scale: Int, _ c: PlotColor) {
        for (i, ch) in s.enumerated() {
            let rows = BitmapFont.glyph(ch)
            for (r, bits) in rows.enumerated() {
                for col in 0..<5 where bits & (0x10 >> UInt8(col)) != 0 {
                    fill(x: x + r * scale, y: y - (i * 6 + col + 1) * scale, w: scale, h: scale, c)
                }
            }
        }
    }

    /// Max-accumulates the coverage of a thick segment a-b (round caps) over the clip rectangle:
    /// coverage = clamp(halfWidth + 0.5 - distance(pixel centre, segment), 0, 1).
    func segmentCoverage(_ a: (Double, Double), _ b: (Double, Double), halfWidth: Double, into cov: inout [Float],
                         clip: (Int, Int, Int, Int)) {
        let (cx0, cy0, cx1, cy1) = clip
        let r = halfWidth + 1
        let xa = max(cx0, Int(floor(min(a.0, b.0) - r))), xb = min(cx1, Int(ceil(max(a.0, b.0) + r)))
        let ya = max(cy0, Int(floor(min(a.1, b.1) - r))), yb = min(cy1, Int(ceil(max(a.1, b.1) + r)))
        guard xa < xb && ya < yb else { return }
        let dx = b.0 - a.0, dy = b.1 - a.1
        let len2 = dx * dx + dy * dy
        let cw = cx1 - cx0
        cov.withUnsafeMutableBufferPointer { cov in
            for y in ya..<yb {
                let pyc = Double(y) + 0.5
                for x in xa..<xb {
                    let pxc = Double(x) + 0.5
                    var t = len2 > 0 ? ((pxc - a.0) * dx + (pyc - a.1) * dy) / len2 : 0
                    t = min(max(t, 0), 1)
                    let ex = pxc - (a.0 + t * dx), ey = pyc - (a.1 + t * dy)
                    let v = Float(min(max(halfWidth + 0.5 - (ex * ex + ey * ey).squareRoot(), 0), 1))
                    let i = (y - cy0) * cw + (x - cx0)
                    if v > cov[i] { cov[i] = v }
                }
            }
        }
    }

    /// Blends `color` over the clip rectangle with the given per-pixel coverage.
    mutating func composite(_ cov: [Float], clip: (Int, Int, Int, Int), _ color: PlotColor) {
        let (cx0, cy0, cx1, cy1) = clip
        let cw = cx1 - cx0
        let w = width
        pixels.withUnsafeMutableBufferPointer { p in
            cov.withUnsafeBufferPointer { cov in
                for y in cy0..<cy1 {
                    for x in cx0..<cx1 {
                        let a = cov[(y - cy0) * cw + (x - cx0)]
                        guard a > 0 else { continue }
                        let o = (y * w + x) * 3
                        p[o] = UInt8((Float(p[o]) * (1 - a) + Float(color.r) * a).rounded())
                        p[o + 1] = UInt8((Float(p[o + 1]) * (1 - a) + Float(color.g) * a).rounded())
                        p[o + 2] = UInt8((Float(p[o + 2]) * (1 - a) + Float(color.b) * a).rounded())
                    }
                }
            }
        }
    }
}

/// A 5 x 7 bitmap font: each glyph is 7 rows of 5 bits, the most significant bit on the left.
enum BitmapFont {
    static let glyphs: [Character: [UInt8]] = [
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        "A": [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11], "B": [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        "C": [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E], "D": [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        "E": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F], "F": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        "G": [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F], "H": [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        "I": [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E], "J": [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        "K": [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], "L": [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        "M": [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11], "N": [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        "O": [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], "P": [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        "Q": [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D], "R": [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        "S": [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E], "T": [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        "U": [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], "V": [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        "W": [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A], "X": [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        "Y": [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04], "Z": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        ".": [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C], "-": [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        "%": [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03], ":": [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        "/": [0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10], "(": [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ")": [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08], "_": [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F],
        "+": [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00], ",": [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        "=": [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00], " ": [0, 0, 0, 0, 0, 0, 0],
    ]
    /// Shown for characters the font lacks.
    static let unknown: [UInt8] = [0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F]

    static func glyph(_ c: Character) -> [UInt8] {
        glyphs[c] ?? glyphs[Character(c.uppercased())] ?? unknown
    }
}
