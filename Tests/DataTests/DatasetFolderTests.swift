import Data
import Foundation
import TestSupport
import XCTest

final class DatasetFolderTests: XCTestCase {
    var dir: URL!
    var cache: URL!

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory("folder")
        cache = try makeTemporaryDirectory("folder-cache")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
        try? FileManager.default.removeItem(at: cache)
    }

    func image(_ w: Int, _ h: Int, _ seed: Int) -> RGBImage {
        RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + seed * 29) })
    }

    /// cats/ (two PNGs, one nested), dogs/ (a JPEG and a grayscale PNG), plus a stray text file.
    func makeLabelledFolder() throws -> (cat0: RGBImage, cat1: RGBImage, dogPNG: [UInt16]) {
        let fm = FileManager.default
        for sub in ["cats/more", "dogs"] { try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true) }
        let cat0 = image(5, 4, 1), cat1 = image(7, 3, 2)
        try PNGCodec.write(cat0, to: dir.appendingPathComponent("cats/a.png"))
        try PNGCodec.write(cat1, to: dir.appendingPathComponent("cats/more/b.PNG"))
        let jpeg = try JPEGCodec.encode(image(16, 16, 3), quality: 90)
        try Data(jpeg).write(to: dir.appendingPathComponent("dogs/c.jpg"))
        let gray: [UInt16] = [10, 20, 30, 40]
        try Data(RawPNG.make(width: 2, height: 2, colorType: .gray, bitDepth: 8, samples: gray)).write(to: dir.appendingPathComponent("dogs/d.png"))
        try "not an image".write(to: dir.appendingPathComponent("dogs/readme.txt"), atomically: true, encoding: .utf8)
        return (cat0, cat1, gray)
    }

    func testLabelledFolderSortedClassesAnySizeAndKinds() throws {
        let (cat0, cat1, gray) = try makeLabelledFolder()
        let ds = try ImageFolderDataset(directory: dir)
        XCTAssertEqual(ds.classNames, ["cats", "dogs"])
        XCTAssertEqual(ds.count, 4)
        XCTAssertEqual((0..<4).map { ds.path(at: $0) }, ["cats/a.png", "cats/more/b.PNG", "dogs/c.jpg", "dogs/d.png"])
        XCTAssertEqual((0..<4).map { ds.label(at: $0)! }, [0, 0, 1, 1])
        XCTAssertEqual(try ds.image(at: 0), cat0)
        XCTAssertEqual(try ds.image(at: 1), cat1)
        let dog = try ds.image(at: 2)
        XCTAssertEqual([dog.width, dog.height], [16, 16])
        XCTAssertEqual(try ds.image(at: 3).pixels, gray.flatMap { [UInt8($0), UInt8($0), UInt8($0)] })
        XCTAssertTrue(ds.skippedFiles.isEmpty)
    }

    func testFlatFolderIsUnlabeled() throws {
        try PNGCodec.write(image(3, 3, 5), to: dir.appendingPathComponent("x.png"))
        try PNGCodec.write(image(4, 2, 6), to: dir.appendingPathComponent("y.png"))
        let ds = try ImageFolderDataset(directory: dir)
        XCTAssertEqual(ds.count, 2)
        XCTAssertEqual(ds.classNames, [])
        XCTAssertNil(ds.label(at: 0))
        XCTAssertEqual(try ds.image(at: 1), image(4, 2, 6))
    }

    func testBadImagesAreSkippedAndCountedOrStopTheRun() throws {
        _ = try makeLabelledFolder()
        let bad = dir.appendingPathComponent("dogs/broken.jpg")
        let good = try JPEGCodec.encode(image(16, 16, 9))
        try Data(good.prefix(good.count / 2)).write(to: bad)
        try Data([1, 2, 3]).write(to: dir.appendingPathComponent("cats/zz.png"))
        let ds = try ImageFolderDataset(directory: dir, onBadImage: .skip)
        XCTAssertEqual(ds.count, 4)
        XCTAssertEqual(ds.skippedFiles.sorted(), ["cats/zz.png", "dogs/broken.jpg"])
        assertThrows(try ImageFolderDataset(directory: dir, onBadImage: .fail), contains: ["cats/zz.png", "bad image"])
    }

    func testCacheIsWrittenThenReusedAndInvalidatedByChanges() throws {
        let (cat0, _, _) = try makeLabelledFolder()
        let first = try ImageFolderDataset(directory: dir, cacheDirectory: cache)
        XCTAssertFalse(first.loadedFromCache)
        let cacheFile = try XCTUnwrap(first.cacheFile)
        XCTAssertTrue(FileManager.default.fileExists(atPath: cacheFile.path))
        let second = try ImageFolderDataset(directory: dir, cacheDirectory: cache)
        XCTAssertTrue(second.loadedFromCache)
        XCTAssertEqual(second.cacheFile, cacheFile)
        XCTAssertEqual(second.count, first.count)
        XCTAssertEqual(second.classNames, first.classNames)
        for i in 0..<first.count {
            XCTAssertEqual(try second.image(at: i), try first.image(at: i))
            XCTAssertEqual(second.label(at: i), first.label(at: i))
        }
        XCTAssertEqual(try second.image(at: 0), cat0)
        // A new file changes the listing, hence the key: decoded again, into a new cache file.
        try PNGCodec.write(image(2, 2, 8), to: dir.appendingPathComponent("dogs/e.png"))
        let third = try ImageFolderDataset(directory: dir, cacheDirectory: cache)
        XCTAssertFalse(third.loadedFromCache)
        XCTAssertEqual(third.count, 5)
        XCTAssertNotEqual(third.cacheFile, cacheFile)
        // A damaged cache file is ignored and rebuilt, never trusted.
        let fourthCache = try XCTUnwrap(third.cacheFile)
        let handle = try FileHandle(forWritingTo: fourthCache)
        try handle.truncate(atOffset: 20)
        try handle.close()
        let rebuilt = try ImageFolderDataset(directory: dir, cacheDirectory: cache)
        XCTAssertFalse(rebuilt.loadedFromCache)
        XCTAssertEqual(try rebuilt.image(at: 0), cat0)
    }

    func testRefusals() throws {
        assertThrows(try ImageFolderDataset(directory: dir.appendingPathComponent("nope")), contains: ["nope", "no such file"])
        assertThrows(try ImageFolderDataset(directory: dir), contains: [dir.path, "empty"])
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("classA"), withIntermediateDirectories: true)
        try "x".write(to: dir.appendingPathComponent("classA/notes.txt"), atomically: true, encoding: .utf8)
        assertThrows(try ImageFolderDataset(directory: dir), contains: [dir.path, "no .png/.jpg/.jpeg images"])
        try Data([0, 1]).write(to: dir.appendingPathComponent("classA/bad.png"))
        assertThrows(try ImageFolderDataset(directory: dir), contains: ["all 1 images failed to decode"])
        let file = dir.appendingPathComponent("classA/notes.txt")
        assertThrows(try ImageFolderDataset(directory: file), contains: ["notes.txt", "a folder"])
    }

    func testUnreadableFolderIsRefused() throws {
        try XCTSkipIf(getuid() == 0, "root can read any folder")
        let locked = dir.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: locked.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked.path) }
        assertThrows(try ImageFolderDataset(directory: locked), contains: ["locked", "permission denied"])
    }
}

final class DatasetSpecTests: XCTestCase {
    func testSyntheticSplitsUseDifferentSeeds() throws {
        var spec = DatasetSpec(name: .synthetic, split: .train)
        spec.syntheticCount = 20
        spec.syntheticResolution = 16
        let train = try spec.make()
        spec.split = .validation
        let val = try spec.make()
        XCTAssertEqual(train.count, 20)
        XCTAssertEqual(train.name, "synthetic/train")
        XCTAssertEqual(try train.image(at: 0).width, 16)
        XCTAssertNotEqual(try train.image(at: 0), try val.image(at: 0))
        spec.split = .unlabeled
        assertThrows(try spec.make(), contains: ["synthetic", "unlabeled", "train, val, test"])
        assertThrows(try DatasetSplit(parsing: "nope"), contains: ["nope", "train+unlabeled"])
    }

    func testCIFARThroughTheSpec() throws {
        let dir = try makeTemporaryDirectory("spec-cifar")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sub = dir.appendingPathComponent("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        for b in 1...5 { try CIFARWriter.records(labels: [[UInt8(b)]], salt: b).write(to: sub.appendingPathComponent("data_batch_\(b).bin")) }
        var spec = DatasetSpec(name: .cifar10, dataDirectory: dir, split: .train)
        spec.validationBatches = [5]
        XCTAssertEqual(try spec.make().count, 4)
        spec.split = .validation
        XCTAssertEqual(try spec.make().label(at: 0), 5)
        spec.split = try DatasetSplit(parsing: "batches:2,3")
        XCTAssertEqual(try spec.make().count, 2)
        assertThrows(try DatasetSplit(parsing: "batches:2,x"), contains: ["batches:2,x"])
        spec.split = .unlabeled
        assertThrows(try spec.make(), contains: ["cifar10", "unlabeled"])
    }

    func testMissingDataWithoutDownloadSaysWhatToDo() throws {
        let dir = try makeTemporaryDirectory("spec-missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = DatasetSpec(name: .stl10, dataDirectory: dir, split: .trainAndUnlabeled)
        assertThrows(try spec.make(), contains: ["stl10_binary", "--download", "stl10_binary.tar.gz"])
        assertThrows(try DatasetSpec.parseName("imagenet"), contains: ["--dataset", "imagenet", "cifar10"])
        XCTAssertEqual(try DatasetSpec.parseName("CIFAR100"), .cifar100)
        assertThrows(try DatasetSpec(name: .folder, split: .train).make(), contains: ["--data-dir"])
    }
}
