// Preview.grid: geometry, gap colour, tile contents (resized original + the loader's epoch-0
// views), PNG round trip, and refused indices.
import Foundation
import XCTest
@testable import Data
import TestSupport

final class PreviewTests: XCTestCase {
    private func tile(_ grid: RGBImage, x: Int, y: Int, size: Int) -> [UInt8] {
        var out: [UInt8] = []
        for r in 0..<size {
            let start = ((y + r) * grid.width + x) * 3
            out += grid.pixels[start..<(start + size * 3)]
        }
        return out
    }

    func testGridLayoutAndTiles() throws {
        let data = AugTestDataset(count: 6, width: 40, height: 28, seed: 31)
        let pipeline = try AugmentationPipeline(.cifar(size: 24))
        let grid = try Preview.grid(dataset: data, images: [4, 1], views: 3, pipeline: pipeline, seed: 77, gap: 2)
        XCTAssertEqual(grid.width, 2 + 4 * 26)
        XCTAssertEqual(grid.height, 2 + 2 * 26)
        // Gaps are white: the first row, the first column, and the column between tiles 0 and 1.
        XCTAssertTrue(grid.pixels[0..<(grid.width * 3 * 2)].allSatisfy { $0 == 255 })
        for y in 0..<grid.height { XCTAssertEqual(grid.pixels[(y * grid.width + 26) * 3], 255) }
        let renderer = ViewRenderer(pipeline: pipeline)
        for (row, index) in [4, 1].enumerated() {
            let image = try data.image(at: index)
            let y = 2 + row * 26
            XCTAssertEqual(tile(grid, x: 2, y: y, size: 24), renderer.renderResized(image).pixels)
            let params = pipeline.sampleViews(width: 40, height: 28, seed: 77, epoch: 0, index: index)
            for v in 0..<2 {  // config.views = 2: the first two of the 3 views are the loader's views
                XCTAssertEqual(tile(grid, x: 2 + (v + 1) * 26, y: y, size: 24), renderer.render(image, params[v]).pixels)
            }
        }
        // Reproducible from the seed, different for another seed.
        XCTAssertEqual(grid, try Preview.grid(dataset: data, images: [4, 1], views: 3, pipeline: pipeline, seed: 77))
        XCTAssertNotEqual(grid, try Preview.grid(dataset: data, images: [4, 1], views: 3, pipeline: pipeline, seed: 78))
    }

    func testGridRoundTripsThroughPNG() throws {
        let data = AugTestDataset(count: 3, seed: 4)
        let grid = try Preview.grid(dataset: data, images: 3, views: 2, pipeline: try AugmentationPipeline(.cifar()),
                                    seed: 1)
        XCTAssertEqual([grid.width, grid.height], [2 + 3 * 34, 2 + 3 * 34])
        let dir = try makeTemporaryDirectory("preview")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("grid.png")
        try PNGCodec.write(grid, to: url)
        XCTAssertEqual(try PNGCodec.read(contentsOf: url), grid)
    }

    func testOutOfRangeIndexIsRefused() throws {
        let data = AugTestDataset(count: 3, seed: 4)
        XCTAssertThrowsError(try Preview.grid(dataset: data, images: [0, 3], views: 2,
                                              pipeline: try AugmentationPipeline(.cifar()), seed: 1)) { error in
            XCTAssertTrue(error.localizedDescription.contains("images = 3"), error.localizedDescription)
        }
    }
}
