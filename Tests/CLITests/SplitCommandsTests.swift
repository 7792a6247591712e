// The split-aware commands: evaluation of an image folder only on a held-out split (refused
// without one, saying how to get one), reports that state what they fitted on and scored, STL-10
// and CIFAR-100 (coarse) evaluation splits, and `simclr preview --split`.
import ArgumentParser
import Foundation
@testable import SimCLR
@testable import SimCLRCLI
import TestSupport
import XCTest

final class SplitCommandsTests: XCTestCase {
    var dir: URL!
    let encoder = ["--random-init", "--width", "0.25", "--threads", "2"]

    override func setUpWithError() throws { dir = try makeTemporaryDirectory("split-cli") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func message(_ args: [String]) -> String {
        do {
            _ = try SimCLRCommand.parseAsRoot(args)
            XCTFail("\(args) should be refused")
            return ""
        } catch {
            return SimCLRCommand.message(for: error)
        }
    }

    func run<C: ParsableCommand>(_ type: C.Type, _ args: [String]) throws {
        var cmd = try XCTUnwrap(SimCLRCommand.parseAsRoot(args) as? C)
        try cmd.run()
    }

    /// The JSON lines written by --json.
    func reports(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testImageFolderIsEvaluatedOnlyOnAHeldOutSplit() throws {
        let photos = dir.appendingPathComponent("photos")
        try OfficialLayouts.folder(in: photos, classes: ["a", "b"], perClass: 8)
        let folder = ["--dataset", "folder", "--data-dir", photos.path, "--cache-dir", dir.appendingPathComponent("cache").path,
                      "--image-size", "32"]
        for command in [["eval", "knn"], ["eval", "linear"]] {
            let m = message(command + encoder + folder)
            XCTAssertTrue(m.contains(photos.path) && m.contains("--val-dir DIR") && m.contains("--val-fraction F"), m)
        }
        XCTAssertTrue(message(["eval", "knn"] + encoder + folder + ["--val-split", "train"]).contains("--val-split train is not allowed"))

        let json = dir.appendingPathComponent("r.jsonl").path
        try run(KNNEval.self, ["eval", "knn"] + encoder + folder + ["--val-fraction", "0.25", "--json", json])
        try run(LinearEval.self, ["eval", "linear"] + encoder + folder + ["--val-fraction", "0.25", "--max-iter", "20", "--json", json])
        for r in try reports(json) {
            XCTAssertEqual(r["split"] as? String, "val")
            XCTAssertEqual(r["fit_split"] as? String, "train")
            XCTAssertEqual(r["fitted_images"] as? Int, 12)
            XCTAssertEqual(r["scored_images"] as? Int, 4)
            XCTAssertEqual(r["fitted_on"] as? String, "folder/photos/train")
            XCTAssertEqual(r["scored_on"] as? String, "folder/photos/val")
        }

        // A second folder with the same classes; one with other classes is refused by name.
        let val = dir.appendingPathComponent("val")
        try OfficialLayouts.folder(in: val, classes: ["a", "b"], perClass: 3)
        let json2 = dir.appendingPathComponent("r2.jsonl").path
        try run(KNNEval.self, ["eval", "knn"] + encoder + folder + ["--val-dir", val.path, "--json", json2])
        let r = try XCTUnwrap(reports(json2).first)
        XCTAssertEqual([r["fitted_images"] as? Int, r["scored_images"] as? Int], [16, 6])
        let other = dir.appendingPathComponent("other")
        try OfficialLayouts.folder(in: other, classes: ["a", "c"], perClass: 2)
        XCTAssertThrowsError(try run(KNNEval.self, ["eval", "knn"] + encoder + folder + ["--val-dir", other.path])) { error in
            let m = error.localizedDescription
            XCTAssertTrue(m.contains("missing b") && m.contains("extra c"), m)
        }
    }

    func testSTL10AndCoarseCIFAR100EvaluationSplits() throws {
        let stl = dir.appendingPathComponent("stl")
        try OfficialLayouts.stl10(in: stl, train: 8, test: 4, unlabeled: 6)
        let json = dir.appendingPathComponent("stl.jsonl").path
        try run(KNNEval.self, ["eval", "knn"] + encoder + ["--dataset", "stl10", "--data-dir", stl.path, "--json", json])
        let s = try XCTUnwrap(reports(json).first)
        XCTAssertEqual(s["fitted_on"] as? String, "stl10/train")
        XCTAssertEqual([s["fitted_images"] as? Int, s["scored_images"] as? Int], [8, 4])
        XCTAssertTrue(message(["eval", "knn"] + encoder + ["--dataset", "stl10", "--data-dir", stl.path, "--val-split", "train+unlabeled"])
            .contains("not allowed"))

        let c100 = dir.appendingPathComponent("c100")
        try OfficialLayouts.cifar100(in: c100, train: 40, test: 20)
        let json2 = dir.appendingPathComponent("c100.jsonl").path
        try run(KNNEval.self, ["eval", "knn"] + encoder + ["--dataset", "cifar100", "--data-dir", c100.path, "--cifar100-labels", "coarse",
                                                            "--json", json2])
        XCTAssertEqual(try reports(json2).first?["scored_on"] as? String, "cifar100-coarse/test")
        let fine = try DatasetSettings.resolve([ConfigLayer(["dataset": "cifar100", "data_dir": c100.path], from: .flags)]).open(.test)
        let coarse = try DatasetSettings.resolve([ConfigLayer(["dataset": "cifar100", "data_dir": c100.path, "cifar100_labels": "coarse"],
                                                              from: .flags)]).open(.test)
        XCTAssertEqual([fine.classNames.count, coarse.classNames.count], [100, 20])
        XCTAssertEqual((0..<20).map { coarse.label(at: $0)! }, (0..<20).map { ($0 + 3) % 20 })
        XCTAssertEqual(fine.label(at: 1), (7 + 3) % 100)
        XCTAssertTrue(message(["eval", "knn"] + encoder + ["--dataset", "cifar10", "--cifar100-labels", "coarse"]).contains("only cifar100"))
    }

    func testPreviewOpensTheSplitItIsGiven() throws {
        let c10 = dir.appendingPathComponent("c10")
        try OfficialLayouts.cifar10(in: c10, perBatch: 0, test: 5, testOnly: true)
        let out = dir.appendingPathComponent("p.png").path
        let flags = ["preview", "--dataset", "cifar10", "--data-dir", c10.path, "--images", "3", "--views", "1", "--out", out]
        XCTAssertThrowsError(try run(PreviewCommand.self, flags)) { error in
            XCTAssertTrue(error.localizedDescription.contains("data_batch_1.bin"), error.localizedDescription)
        }
        try run(PreviewCommand.self, flags + ["--split", "test"])
        let png = try PNGCodec.read(contentsOf: URL(fileURLWithPath: out))
        XCTAssertEqual(png.height, 2 + 3 * (32 + 2))
    }
}
