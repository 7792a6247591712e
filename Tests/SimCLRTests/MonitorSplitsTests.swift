// The kNN monitor keeps using the labelled splits whatever split pretraining reads, and its log
// line says what it was fitted on and what it scored.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class MonitorSplitsTests: XCTestCase {
    func testPretrainingSplitAndMonitorSplitsAreOpenedSeparately() throws {
        var c = TrainerTests.tinyTrainConfig()
        c.data.trainSplit = .test
        c.runtime.knnInterval = 1
        let data = try TrainingData.open(c, showProgress: false)
        XCTAssertEqual(data.train.name, "synthetic/test")
        XCTAssertEqual(data.monitor?.bank.name, "synthetic/train")
        XCTAssertEqual(data.monitor?.bank.count, 32)
        XCTAssertEqual(data.monitor?.queries.name, "synthetic/val")
        c.data.trainSplit = .train
        let same = try TrainingData.open(c, showProgress: false)
        XCTAssertEqual(same.monitor?.bank.name, same.train.name)
    }

    func testMonitorLogStatesWhatItFittedOnAndScored() throws {
        let root = try makeTemporaryDirectory("monitor"), cache = try makeTemporaryDirectory("monitor-cache")
        let out = try makeTemporaryDirectory("monitor-run")
        defer { for d in [root, cache, out] { try? FileManager.default.removeItem(at: d) } }
        let photos = root.appendingPathComponent("photos")
        for (k, name) in ["a", "b"].enumerated() {
            try FileManager.default.createDirectory(at: photos.appendingPathComponent(name), withIntermediateDirectories: true)
            for i in 0..<8 {
                var image = RGBImage(width: 12, height: 12)
                for p in 0..<(12 * 12) {
                    image.pixels[3 * p] = UInt8((p * (k + 1) + i * 9) % 256)
                    image.pixels[3 * p + 1] = UInt8(k * 120)
                    image.pixels[3 * p + 2] = UInt8(i * 30)
                }
                try PNGCodec.write(image, to: photos.appendingPathComponent("\(name)/\(i).png"))
            }
        }
        var c = TrainerTests.tinyTrainConfig(epochs: 1)
        c.data = DatasetSettings(dataset: .folder)
        c.data.dataDir = photos.path
        c.data.cacheDir = cache.path
        c.data.imageSize = 16
        c.data.valFraction = 0.25
        c.runtime.knnInterval = 1
        let t = Trainer(config: c, folder: RunFolder(out))
        t.showProgress = false
        var logged: [String] = []
        t.log = { logged.append($0) }
        try t.run()
        let line = try XCTUnwrap(logged.first { $0.hasPrefix("kNN") })
        XCTAssertTrue(line.contains("on folder/photos/val (4 images), fitted on folder/photos/train (12 images)"), line)
    }
}
