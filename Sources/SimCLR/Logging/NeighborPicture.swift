// neighbors.png: one row per query image, the query first, then its k nearest bank images in h
// (see `NeighborSearch`), each framed green when its label is the query's, red when it is
// another, and not framed when either is unlabeled. Under the query: its class name; under a
// neighbour: its cosine similarity. Tiles are the evaluation views (resize + centre crop) at
// `tile` x `tile`.
//
// Layout (pixels): margin 8; a header line; cells of tile + 2 x 3 (the frame) with a caption
// line below; 4 between neighbours, 16 between the query and its first neighbour; a legend line.
// The picture is widened when the header or the legend is wider than the grid.
import Data
import Foundation

public enum NeighborPicture {
    static let margin = 8, frameWidth = 3, gap = 4, querySeparation = 16

    /// The tile side for images of side `imageSize`: at least 64, at most 128.
    public static func defaultTile(imageSize: Int) -> Int { min(max(imageSize, 64), 128) }

    /// The frame colour of a neighbour: green for the query's label, red for another, nil when unlabeled.
    public static func frameColor(query: Int?, neighbor: Int?) -> PlotColor? {
        guard let query, let neighbor else { return nil }
        return query == neighbor ? sameLabel : otherLabel
    }

    public static let sameLabel = PlotColor(30, 170, 60)
    public static let otherLabel = PlotColor(220, 40, 40)

    static func fontScale(tile: Int) -> Int { tile >= 96 ? 2 : 1 }
    static func lineHeight(tile: Int) -> Int { 7 * fontScale(tile: tile) + 8 }
    static func cell(tile: Int) -> Int { tile + 2 * frameWidth }

    /// Top-left corner of the tile of `row`, `column` (0: the query, 1 ... k: its neighbours).
    public static func tileOrigin(row: Int, column: Int, tile: Int) -> (x: Int, y: Int) {
        let c = cell(tile: tile), line = lineHeight(tile: tile)
        let x = column == 0 ? margin : margin + c + querySeparation + (column - 1) * (c + gap)
        let y = margin + line + row * (c + line + gap)
        return (x + frameWidth, y + frameWidth)
    }

    /// The header over the neighbour columns.
    static func header(bankName: String) -> String { "nearest \(bankName) images in h, cosine similarity below" }
    static let legend = (same: "same label as the query", other: "another label")

    /// Width and height of a picture of `rows` queries and `k` neighbours each from the bank
    /// `bankName`: the grid, or the header and legend lines when they are wider.
    public static func size(rows: Int, k: Int, tile: Int, bankName: String) -> (width: Int, height: Int) {
        let c = cell(tile: tile), line = lineHeight(tile: tile), s = fontScale(tile: tile)
        let grid = 2 * margin + c + querySeparation + k * c + max(k - 1, 0) * gap
        let headerEnd = tileOrigin(row: 0, column: 1, tile: tile).x - frameWidth
            + LineChart.textWidth(header(bankName: bankName), scale: s) + margin
        let legendEnd = 2 * margin + 2 * (7 * s + 6) + 24 + LineChart.textWidth(legend.same, scale: s)
            + LineChart.textWidth(legend.other, scale: s)
        return (max(grid, headerEnd, legendEnd), 2 * margin + line + rows * (c + line) + max(rows - 1, 0) * gap + line)
    }

    /// Draws `search`: query images from `queries`, neighbours from `bank`.
    public static func render(_ search: NeighborSearch, queries: any ImageDataset, bank: any ImageDataset, tile: Int = 64) throws
        -> RGBImage
    {
        precondition(tile >= 8, "NeighborPicture: tile \(tile)")
        let k = search.neighbors.map(\.count).max() ?? 0
        let (width, height) = size(rows: search.queryIndices.count, k: k, tile: tile, bankName: bank.name)
        var canvas = Canvas(width: width, height: height)
        let s = fontScale(tile: tile), c = cell(tile: tile), ink = PlotColor(30, 30, 30)
        let renderer = ViewRenderer(pipeline: try AugmentationPipeline(.cifar(size: tile, views: 1)))
        func view(_ image: RGBImage) throws -> RGBImage {
            guard image.width >= 1, image.height >= 1 else { throw AugmentationError.emptyImage(index: 0, width: image.width, height: image.height) }
            return renderer.renderEvaluation(image)
        }
        func caption(_ text: String, x: Int, y: Int) {
            canvas.text(String(text.prefix(max(1, (c + 1) / (6 * s)))), x: x - frameWidth, y: y + tile + frameWidth + 4, scale: s, ink)
        }
        canvas.text("query", x: margin, y: margin, scale: s, .black)
        canvas.text(header(bankName: bank.name), x: tileOrigin(row: 0, column: 1, tile: tile).x - frameWidth, y: margin, scale: s, .black)
        var framed = false
        for (row, q) in search.queryIndices.enumerated() {
            let label = queries.label(at: q)
            let origin = tileOrigin(row: row, column: 0, tile: tile)
            canvas.paste(try view(queries.image(at: q)), x: origin.x, y: origin.y)
            caption(label.map { queries.classNames.indices.contains($0) ? queries.classNames[$0] : "class \($0)" } ?? "unlabeled",
                    x: origin.x, y: origin.y)
            for (column, n) in search.neighbors[row].enumerated() {
                let o = tileOrigin(row: row, column: column + 1, tile: tile)
                canvas.paste(try view(bank.image(at: n.index)), x: o.x, y: o.y)
                if let color = frameColor(query: label, neighbor: bank.label(at: n.index)) {
                    canvas.frame(x: o.x, y: o.y, w: tile, h: tile, thickness: frameWidth, color)
                    framed = true
                }
                caption(String(format: "%.2f", n.similarity), x: o.x, y: o.y)
            }
        }
        if framed {
            let y = height - margin - 7 * s, box = 7 * s
            canvas.fill(x: margin, y: y, w: box, h: box, sameLabel)
            canvas.text(legend.same, x: margin + box + 6, y: y, scale: s, ink)
            let x2 = margin + box + 6 + LineChart.textWidth(legend.same, scale: s) + 24
            canvas.fill(x: x2, y: y, w: box, h: box, otherLabel)
            canvas.text(legend.other, x: x2 + box + 6, y: y, scale: s, ink)
        }
        return RGBImage(width: canvas.width, height: canvas.height, pixels: canvas.pixels)
    }

    /// Renders and writes the PNG.
    public static func write(_ search: NeighborSearch, queries: any ImageDataset, bank: any ImageDataset, tile: Int = 64, to url: URL)
        throws
    {
        try PNGCodec.write(try render(search, queries: queries, bank: bank, tile: tile), to: url)
    }
}
