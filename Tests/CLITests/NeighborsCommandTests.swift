// `simclr neighbors`: the picture's size follows the queries, neighbours and tile; refusals name the flag.
import ArgumentParser
import Foundation
@testable import SimCLR
@testable import SimCLRCLI
import TestSupport
import XCTest

final class NeighborsCommandTests: XCTestCase {
    let encoder = ["--random-init", "--width", "0.25", "--threads", "2"]

    func message(_ args: [String]) -> String {
        do {
            _ = try SimCLRCommand.parseAsRoot(args)
            XCTFail("\(args) should be refused")
            return ""
        } catch {
            return SimCLRCommand.message(for: error)
        }
    }

    func run(_ args: [String]) throws {
        let cmd = try XCTUnwrap(SimCLRCommand.parseAsRoot(args) as? NeighborsCommand)
        try cmd.run()
    }

    func testNeighborsWritesOneRowPerQuery() throws {
        let dir = try makeTemporaryDirectory("neighbors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("n.png").path
        let synthetic = ["--dataset", "synthetic", "--synthetic-count", "30", "--image-size", "16"]
        try run(["neighbors"] + encoder + synthetic + ["--queries", "3", "--k", "4", "--out", out])
        let png = try PNGCodec.read(contentsOf: URL(fileURLWithPath: out))
        let size = NeighborPicture.size(rows: 3, k: 4, tile: NeighborPicture.defaultTile(imageSize: 16), bankName: "synthetic/train")
        XCTAssertEqual([png.width, png.height], [size.width, size.height])
        // Queries from the training split itself, bigger tiles; refusals name the flag.
        try run(["neighbors"] + encoder + synthetic + ["--split", "train", "--tile", "20", "--out", out])
        let p2 = try PNGCodec.read(contentsOf: URL(fileURLWithPath: out))
        XCTAssertEqual(p2.width, NeighborPicture.size(rows: 8, k: 8, tile: 20, bankName: "synthetic/train").width)
        for (bad, flag) in [(["--queries", "0"], "--queries"), (["--k", "0"], "--k"), (["--split", "unlabeled"], "--split"),
                            (["--tile", "4"], "--tile")] {
            XCTAssertTrue(message(["neighbors"] + encoder + synthetic + bad).contains(flag), "\(bad)")
        }
    }
}
