// Nearest neighbours in h and the neighbour picture: the search against a brute-force ranking,
// queries spread over the classes, a query never its own neighbour, and the picture's tiles and
// frames (green: same label, red: another, none: unlabeled) read back pixel by pixel.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

/// Images of one flat colour per index; labels from a list (nil: unlabeled).
struct FlatColors: ImageDataset {
    let name: String
    let labels: [Int?]
    let classNames = ["red", "green", "blue"]
    var count: Int { labels.count }
    func label(at index: Int) -> Int? { labels[index] }
    static func color(_ index: Int) -> [UInt8] { [UInt8(index * 40 % 256), UInt8(255 - index * 25 % 256), UInt8(index * 90 % 256)] }
    func image(at index: Int) throws -> RGBImage {
        RGBImage(width: 10, height: 6, pixels: Array((0..<60).map { _ in Self.color(index) }.joined()))
    }
}

final class NeighborTests: XCTestCase {
    func testSearchMatchesABruteForceCosineRanking() {
        var rng = TestRNG(seed: 3)
        let bank = rng.tensor([40, 6]), queries = rng.tensor([4, 6])
        let found = NearestNeighbors.search(bank: bank, queries: queries, k: 5, excluding: [nil, 7, nil, nil])
        for q in 0..<4 {
            func row(_ t: Tensor, _ r: Int) -> [Double] { (0..<6).map { Double(t[r * 6 + $0]) } }
            let a = row(queries, q)
            let ranked = (0..<40).filter { q != 1 || $0 != 7 }.map { j -> (Int, Double) in
                let b = row(bank, j)
                let dot = zip(a, b).map(*).reduce(0, +)
                return (j, dot / (sqrt(a.map { $0 * $0 }.reduce(0, +)) * sqrt(b.map { $0 * $0 }.reduce(0, +))))
            }.sorted { $0.1 > $1.1 }
            XCTAssertEqual(found[q].map(\.index), ranked.prefix(5).map(\.0), "query \(q)")
            for (n, r) in zip(found[q], ranked) { XCTAssertEqual(Double(n.similarity), r.1, accuracy: 1e-5) }
        }
        XCTAssertFalse(found[1].contains { $0.index == 7 })
        // Ties: the lower index first; k larger than the bank gives the whole bank.
        let same = Tensor(shape: [3, 2], values: [1, 0, 1, 0, 1, 0])
        XCTAssertEqual(NearestNeighbors.search(bank: same, queries: Tensor(shape: [1, 2], values: [2, 0]), k: 9)[0].map(\.index), [0, 1, 2])
    }

    func testQueriesAreSpreadOverTheClasses() {
        let ds = FlatColors(name: "c", labels: (0..<30).map { $0 % 3 })
        XCTAssertEqual(NeighborSearch.queryIndices(count: 3, of: ds), [0, 1, 2])
        XCTAssertEqual(NeighborSearch.queryIndices(count: 5, of: ds), [0, 1, 2, 3, 4])
        let sorted = FlatColors(name: "s", labels: (0..<30).map { $0 / 10 })  // a folder: sorted by class
        XCTAssertEqual(NeighborSearch.queryIndices(count: 4, of: sorted).map { sorted.labels[$0]! }, [0, 1, 2, 0])
        XCTAssertEqual(NeighborSearch.queryIndices(count: 4, of: FlatColors(name: "u", labels: Array(repeating: nil, count: 20))),
                       [0, 5, 10, 15])
        XCTAssertEqual(NeighborSearch.queryIndices(count: 50, of: ds).count, 30)
    }

    func testPictureShowsTilesAndFramesByLabel() throws {
        let queries = FlatColors(name: "q", labels: [0, 1])
        let bank = FlatColors(name: "b", labels: [0, 1, nil, 2])
        let search = NeighborSearch(queryIndices: [0, 1], neighbors: [
            [Neighbor(index: 0, similarity: 0.9), Neighbor(index: 1, similarity: 0.5), Neighbor(index: 2, similarity: 0.4)],
            [Neighbor(index: 1, similarity: 0.8), Neighbor(index: 3, similarity: 0.7), Neighbor(index: 0, similarity: -0.1)],
        ])
        let tile = 16
        let png = try NeighborPicture.render(search, queries: queries, bank: bank, tile: tile)
        let size = NeighborPicture.size(rows: 2, k: 3, tile: tile, bankName: "b")
        XCTAssertEqual([png.width, png.height], [size.width, size.height])
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(png.pixels[((y * png.width + x) * 3)..<((y * png.width + x) * 3 + 3)]) }
        let white: [UInt8] = [255, 255, 255]
        let green = NeighborPicture.sameLabel, red = NeighborPicture.otherLabel
        for row in 0..<2 {
            let q = NeighborPicture.tileOrigin(row: row, column: 0, tile: tile)
            XCTAssertEqual(pixel(q.x + 8, q.y + 8), FlatColors.color(row), "query \(row) tile")
            XCTAssertEqual(pixel(q.x - 1, q.y + 8), white, "queries are not framed")
            for (column, n) in search.neighbors[row].enumerated() {
                let o = NeighborPicture.tileOrigin(row: row, column: column + 1, tile: tile)
                XCTAssertEqual(pixel(o.x + 8, o.y + 8), FlatColors.color(n.index), "row \(row) neighbour \(column)")
                let expected: [UInt8]
                switch NeighborPicture.frameColor(query: queries.labels[row], neighbor: bank.labels[n.index]) {
                case let c?: expected = [c.r, c.g, c.b]
                case nil: expected = white
                }
                for (x, y) in [(o.x - 1, o.y + 8), (o.x + tile, o.y + 3), (o.x + 5, o.y - 2), (o.x + 5, o.y + tile + 2)] {
                    XCTAssertEqual(pixel(x, y), expected, "frame of row \(row) neighbour \(column) at (\(x), \(y))")
                }
            }
        }
        // Row 0: same label, other label, unlabeled; row 1: same, other, other.
        XCTAssertEqual(NeighborPicture.frameColor(query: 0, neighbor: 0), green)
        XCTAssertEqual(NeighborPicture.frameColor(query: 0, neighbor: 1), red)
        XCTAssertNil(NeighborPicture.frameColor(query: 0, neighbor: nil))
        XCTAssertNil(NeighborPicture.frameColor(query: nil, neighbor: 2))
    }

    func testSearchOnAnEncoderUsesItsFeaturesAndLeavesTheQueryOut() throws {
        var rng = RandomState(seed: 5)
        let encoder = ResNet(ResNetConfig(depth: .resnet18, stem: .cifar, width: 0.25), rng: &rng)
        let ds = FlatColors(name: "flat", labels: (0..<12).map { $0 % 3 })
        let aug = AugmentationConfig.cifar(size: 16)
        let search = try NeighborSearch(encoder: encoder, bank: ds, queries: ds, queryCount: 3, k: 4, queriesAreBank: true, augmentation: aug)
        XCTAssertEqual(search.queryIndices, [0, 1, 2])
        let h = try FeatureExtraction.extract(encoder: encoder, dataset: ds, augmentation: aug)
        let q = Tensor(shape: [3, encoder.featureDim])
        q.data.update(from: h.features.data, count: 3 * encoder.featureDim)
        let direct = NearestNeighbors.search(bank: h.features, queries: q, k: 4, excluding: [0, 1, 2])
        XCTAssertEqual(search.neighbors.map { $0.map(\.index) }, direct.map { $0.map(\.index) })
        for (a, b) in zip(search.neighbors.joined(), direct.joined()) { XCTAssertEqual(a.similarity, b.similarity, accuracy: 1e-5) }
        for (row, n) in search.neighbors.enumerated() { XCTAssertFalse(n.contains { $0.index == row }, "a query is not its own neighbour") }
    }

    /// `train` leaves neighbors.png beside curves.png when it has labelled splits, not otherwise.
    func testTrainingRunDrawsItsNeighboursWhenItHasLabelledSplits() throws {
        let dir = try makeTemporaryDirectory(), other = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir); try? FileManager.default.removeItem(at: other) }
        var c = TrainerTests.tinyTrainConfig(epochs: 1)
        c.runtime.knnInterval = 1  // the picture reuses the monitor's bank features
        let train = try SyntheticDataset(count: 32, resolution: 16)
        let t = Trainer(config: c, folder: RunFolder(dir),
                        data: TrainingData(train: train, monitor: (train, try SyntheticDataset(count: 20, resolution: 16, seed: 9))))
        t.showProgress = false
        t.log = { _ in }
        try t.run()
        let png = try PNGCodec.read(contentsOf: RunFolder(dir).neighbors)
        let size = NeighborPicture.size(rows: 8, k: 8, tile: NeighborPicture.defaultTile(imageSize: 16), bankName: train.name)
        XCTAssertEqual([png.width, png.height], [size.width, size.height])
        let unlabeled = Trainer(config: c, folder: RunFolder(other), data: TrainingData(train: train))
        unlabeled.showProgress = false
        try unlabeled.run()
        XCTAssertTrue(FileManager.default.fileExists(atPath: RunFolder(other).curves.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunFolder(other).neighbors.path))
    }

    /// Queries whose images cannot be read: the run succeeds, and says why there is no picture.
    func testAPictureThatCannotBeMadeDoesNotFailTheRun() throws {
        struct Unreadable: ImageDataset {
            let name = "unreadable"
            let count = 4
            let classNames = ["x"]
            func label(at index: Int) -> Int? { 0 }
            func image(at index: Int) throws -> RGBImage { throw DatasetError.unreadable(path: "query \(index)", reason: "test") }
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = try SyntheticDataset(count: 32, resolution: 16)
        let t = Trainer(config: TrainerTests.tinyTrainConfig(epochs: 1), folder: RunFolder(dir),
                        data: TrainingData(train: train, monitor: (train, Unreadable())))
        t.showProgress = false
        var logged: [String] = []
        t.log = { logged.append($0) }
        XCTAssertTrue(try t.run().completed)
        XCTAssertTrue(FileManager.default.fileExists(atPath: RunFolder(dir).summary.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunFolder(dir).neighbors.path))
        XCTAssertTrue(logged.contains { $0.contains("neighbors.png not written") && $0.contains("query") }, "\(logged)")
    }
}
