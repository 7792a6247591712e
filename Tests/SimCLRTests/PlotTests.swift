// curves.png rasteriser: image size, drawn pixels where they belong, ticks, PNG round trip.
import Data
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class PlotTests: XCTestCase {
    /// A plausible training log: decaying loss, rising accuracy, kNN every 2 epochs.
    func syntheticRecords() -> [MetricsRecord] {
        var out: [MetricsRecord] = []
        for step in stride(from: 50, through: 1560, by: 50) {
            let e = 1 + (step - 1) / 156
            out.append(MetricsRecord(kind: .step, step: step, epoch: e, loss: 6.2 - 1.1 * log(Double(step) / 50 + 1),
                                     top1: 1 - exp(-Double(step) / 600), top5: 1 - 0.5 * exp(-Double(step) / 400),
                                     lr: 0.12, imagesPerSecond: 500))
            if step % 156 < 50 && e % 2 == 0 {
                out.append(MetricsRecord(kind: .epoch, step: e * 156, epoch: e, loss: 5, knnTop1: 30 + 2.5 * Double(e)))
            }
        }
        return out
    }

    func pixel(_ img: RGBImage, _ x: Int, _ y: Int) -> PlotColor {
        let o = (y * img.width + x) * 3
        return PlotColor(img.pixels[o], img.pixels[o + 1], img.pixels[o + 2])
    }

    func testTrainingCurvesLayoutAndContent() throws {
        let panels = LineChart.trainingPanels(syntheticRecords())
        XCTAssertEqual(panels.count, 2)
        XCTAssertEqual(panels[0].series.map(\.name), ["NT-Xent loss"])
        XCTAssertEqual(panels[1].series.map(\.name), ["contrastive top-1", "contrastive top-5", "kNN top-1"])
        XCTAssertEqual(panels[1].series[2].points.count, 5, "kNN measured on epochs 2, 4, 6, 8, 10")
        let img = LineChart.render(panels, width: 800, panelHeight: 360)
        XCTAssertEqual(img.width, 800)
        XCTAssertEqual(img.height, 720)
        XCTAssertEqual(img.pixels.count, 800 * 720 * 3)

        for index in 0..<2 {
            let a = LineChart.plotArea(of: panels, index: index, width: 800, panelHeight: 360)
            XCTAssertGreaterThan(a.x1 - a.x0, 500)
            XCTAssertGreaterThan(a.y1 - a.y0, 200)
            XCTAssertTrue(a.y0 >= index * 360 && a.y1 <= (index + 1) * 360)
            // Pixels of the first series' colour inside the plotting area: the line was drawn.
            let blue = PlotColor.palette[0]
            var blueCount = 0, inkCount = 0
            for y in a.y0..<a.y1 {
                for x in a.x0..<a.x1 {
                    let p = pixel(img, x, y)
                    if p == blue { blueCount += 1 }
                    if p != .white { inkCount += 1 }
                }
            }
            XCTAssertGreaterThan(blueCount, 500, "panel \(index): solid line pixels")
            XCTAssertLessThan(inkCount, (a.x1 - a.x0) * (a.y1 - a.y0) / 3, "panel \(index): mostly background")
            // The axes: a dark column at x0 and a dark row at y1.
            XCTAssertEqual(pixel(img, a.x0, (a.y0 + a.y1) / 2), PlotColor(60, 60, 60))
            XCTAssertEqual(pixel(img, (a.x0 + a.x1) / 2, a.y1), PlotColor(60, 60, 60))
            // Tick labels left of the y axis and below the x axis, the title above.
            func ink(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) -> Int {
                var n = 0
                for y in y0..<y1 { for x in x0..<x1 where pixel(img, x, y) != .white { n += 1 } }
                return n
            }
            XCTAssertGreaterThan(ink(30, a.y0 - 8, a.x0 - 8, a.y1 + 8), 100, "y tick labels")
            XCTAssertGreaterThan(ink(a.x0, a.y1 + 8, a.x1, a.y1 + 26), 100, "x tick labels")
            XCTAssertGreaterThan(ink(a.x0, index * 360, a.x1, a.y0 - 4), 100, "title")
            XCTAssertGreaterThan(ink(0, a.y0, 24, a.y1), 50, "y axis title")
        }
        // The kNN markers (red) are in the accuracy panel only.
        let red = PlotColor.palette[3]
        let reds = (0..<img.height).map { y in (0..<img.width).filter { pixel(img, $0, y) == red }.count }
        XCTAssertEqual(reds[0..<360].reduce(0, +), 0)
        XCTAssertGreaterThan(reds[360...].reduce(0, +), 5 * 20)
        keepForInspection(try writePNG(img, "curves.png"))
    }

    func writePNG(_ img: RGBImage, _ name: String) throws -> URL {
        let dir = try makeTemporaryDirectory("plot")
        let url = dir.appendingPathComponent(name)
        try PNGCodec.write(img, to: url)
        return url
    }

    func testPNGRoundTripAndWriteTrainingCurves() throws {
        let dir = try makeTemporaryDirectory("plot")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("curves.png")
        let records = syntheticRecords()
        try LineChart.writeTrainingCurves(records, to: url)
        let back = try PNGCodec.read(contentsOf: url)
        XCTAssertEqual(back, LineChart.render(LineChart.trainingPanels(records)))
    }

    func testNiceTicks() {
        let (t, d) = LineChart.niceTicks(0.13, 0.87, target: 6)
        // raw step 0.74 / 5 = 0.148 -> 0.1; ticks from 0.1 up to 0.9 cover [0.13, 0.87].
        assertClose(t.map(Float.init), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], rtol: 1e-6)
        XCTAssertEqual(d, 1)
        let (steps, sd) = LineChart.niceTicks(50, 1560, target: 8)
        XCTAssertEqual(steps, [0, 200, 400, 600, 800, 1000, 1200, 1400, 1600])
        XCTAssertEqual(sd, 0)
        let (flat, _) = LineChart.niceTicks(3, 3, target: 6)
        XCTAssertTrue(flat.first! < 3 && flat.last! > 3, "a constant series gets a range around it")
        XCTAssertEqual(LineChart.format(-0.0001, 2), "0.00")
        XCTAssertEqual(LineChart.format(2.5, 1), "2.5")
    }

    func testEmptyAndSinglePointSeriesDoNotCrash() {
        let panels = [
            PlotPanel(title: "empty", xLabel: "x", yLabel: "y", series: []),
            PlotPanel(title: "one", xLabel: "x", yLabel: "y",
                      series: [PlotSeries(name: "p", points: [PlotPoint(1, 2), PlotPoint(.nan, 1)])]),
        ]
        let img = LineChart.render(panels, width: 300, panelHeight: 200)
        XCTAssertEqual(img.height, 400)
        let a = LineChart.plotArea(of: panels, index: 1, width: 300, panelHeight: 200)
        let blue = PlotColor.palette[0]
        var n = 0
        for y in a.y0..<a.y1 { for x in a.x0..<a.x1 where pixel(img, x, y) == blue { n += 1 } }
        XCTAssertGreaterThan(n, 10, "a lone point is drawn as a dot")
    }
}
