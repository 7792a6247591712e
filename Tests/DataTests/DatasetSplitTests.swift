// Splits: which splits each dataset has, the class-stratified seeded held-out split of an image
// folder (--val-fraction), a second folder as the held-out split (--val-dir, same classes), the
// refusal of a held-out split a folder does not have, and a read-only image folder that is never
// written to (its decode cache lives elsewhere).
import Data
import Foundation
import TestSupport
import XCTest

final class DatasetSplitTests: XCTestCase {
    var dir: URL!
    var cache: URL!

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory("split")
        cache = try makeTemporaryDirectory("split-cache")
    }

    override func tearDownWithError() throws {
        try? makeWritable(dir)
        try? FileManager.default.removeItem(at: dir)
        try? FileManager.default.removeItem(at: cache)
    }

    /// `root/<class>/<class>-<i>.png` (and every third one a .jpg), 3 x 3 images of a colour per image.
    func writeFolder(_ root: URL, classes: [String: Int]) throws {
        for (name, n) in classes {
            let sub = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            for i in 0..<n {
                let image = RGBImage(width: 3, height: 3, pixels: [UInt8](repeating: UInt8(truncatingIfNeeded: i * 20 + name.count), count: 27))
                if i % 3 == 2 {
                    try Data(try JPEGCodec.encode(image, quality: 90)).write(to: sub.appendingPathComponent("\(name)-\(i).jpg"))
                } else {
                    try PNGCodec.write(image, to: sub.appendingPathComponent("\(name)-\(i).png"))
                }
            }
        }
    }

    func testEachDatasetListsItsSplitsAndMakeRefusesOthers() throws {
        XCTAssertTrue(DatasetSpec.Name.stl10.has(.trainAndUnlabeled))
        XCTAssertTrue(DatasetSpec.Name.cifar10.has(.batches([1, 2])))
        XCTAssertFalse(DatasetSpec.Name.cifar100.has(.batches([1])))
        XCTAssertFalse(DatasetSpec.Name.cifar100.has(.validation))
        XCTAssertTrue(DatasetSpec.Name.folder.has(.validation))
        XCTAssertFalse(DatasetSpec.Name.folder.has(.test))
        XCTAssertFalse(DatasetSpec.Name.synthetic.has(.unlabeled))
        assertThrows(try DatasetSpec(name: .cifar100, dataDirectory: dir, split: .validation).make(),
                     contains: ["cifar100", "'val'", "train, test"])
        assertThrows(try DatasetSpec(name: .folder, dataDirectory: dir, split: .test).make(), contains: ["folder", "train, val"])
    }

    func testStratifiedSplitIsPerClassSeededAndIndependentOfTheListingOrder() {
        // Class 0: 10 items, class 1: 4, class 2: 1, class 3: 2, unlabeled: 5.
        let labels: [Int?] = Array(repeating: 0, count: 10) + Array(repeating: 1, count: 4) + [2, 3, 3] + Array(repeating: nil, count: 5)
        let names = labels.indices.map { "item-\($0).png" }
        let s = StratifiedSplit(names: names, labels: labels, fraction: 0.25, seed: 7)
        XCTAssertEqual(Set(s.train).intersection(s.heldOut), [])
        XCTAssertEqual((s.train + s.heldOut).sorted(), Array(labels.indices))
        func held(_ label: Int?) -> Int { s.heldOut.filter { labels[$0] == label }.count }
        XCTAssertEqual(held(0), 3)    // round(2.5) = 3
        XCTAssertEqual(held(1), 1)
        XCTAssertEqual(held(2), 0)    // a single image stays in training
        XCTAssertEqual(held(3), 1)    // two images: one on each side
        XCTAssertEqual(held(nil), 1)  // round(1.25)
        XCTAssertEqual(s, StratifiedSplit(names: names, labels: labels, fraction: 0.25, seed: 7), "same names and seed, same split")
        // Listed in another order, the same names are held out.
        let order = Array(labels.indices.reversed())
        let t = StratifiedSplit(names: order.map { names[$0] }, labels: order.map { labels[$0] }, fraction: 0.25, seed: 7)
        XCTAssertEqual(Set(t.heldOut.map { order[$0] }), Set(s.heldOut))
        // Another seed picks other images.
        let seeds = (0..<8).map { StratifiedSplit(names: names, labels: labels, fraction: 0.25, seed: $0).heldOut }
        XCTAssertGreaterThan(Set(seeds).count, 1)
    }

    func testValFractionSplitsTheFolderTheSameWayEveryTime() throws {
        try writeFolder(dir, classes: ["cats": 10, "dogs": 6])
        var spec = DatasetSpec(name: .folder, dataDirectory: dir, split: .train)
        spec.cacheDirectory = cache
        spec.showProgress = false
        spec.folderHeldOut = .fraction(0.2, seed: 3)
        let train = try spec.make()
        spec.split = .validation
        let val = try spec.make()
        XCTAssertEqual(train.count + val.count, 16)
        XCTAssertEqual((0..<val.count).map { val.label(at: $0) }.filter { $0 == 0 }.count, 2)  // 20% of 10 cats
        XCTAssertEqual((0..<val.count).map { val.label(at: $0) }.filter { $0 == 1 }.count, 1)  // round(1.2) dogs
        XCTAssertEqual(train.classNames, ["cats", "dogs"])
        XCTAssertEqual(val.name, "folder/\(dir.lastPathComponent)/val")
        func paths(_ d: any ImageDataset) -> [String] {
            let subset = d as! DatasetSubset
            let folder = subset.base as! ImageFolderDataset
            return subset.indices.map(folder.path(at:))
        }
        XCTAssertEqual(Set(paths(train)).intersection(paths(val)), [])
        // Reopened (from the cache now): the same held-out images, reading the same pixels.
        let again = try spec.make()
        XCTAssertEqual(paths(again), paths(val))
        XCTAssertEqual(try again.image(at: 0), try val.image(at: 0))
        spec.folderHeldOut = .fraction(0.2, seed: 4)
        XCTAssertNotEqual(paths(try spec.make()), paths(val))
    }

    func testValDirMustHaveTheSameClassesAndAFolderWithoutHeldOutRefusesVal() throws {
        let train = dir.appendingPathComponent("train"), val = dir.appendingPathComponent("val")
        try writeFolder(train, classes: ["cats": 3, "dogs": 3])
        try writeFolder(val, classes: ["cats": 2, "dogs": 1])
        var spec = DatasetSpec(name: .folder, dataDirectory: train, split: .validation)
        spec.cacheDirectory = cache
        spec.showProgress = false
        assertThrows(try spec.make(), contains: [train.path, "no held-out split", "--val-dir", "--val-fraction"])
        spec.folderHeldOut = .directory(val)
        let v = try spec.make()
        XCTAssertEqual(v.count, 3)
        XCTAssertEqual(v.classNames, ["cats", "dogs"])
        spec.split = .train
        XCTAssertEqual(try spec.make().count, 6, "with --val-dir, train is the whole training folder")
        // Other class names: refused, naming both folders and the difference.
        try FileManager.default.moveItem(at: val.appendingPathComponent("dogs"), to: val.appendingPathComponent("wolves"))
        spec.split = .validation
        assertThrows(try spec.make(), contains: ["--val-dir", val.path, train.path, "missing dogs", "extra wolves"])
        spec.folderHeldOut = .directory(dir.appendingPathComponent("nope"))
        assertThrows(try spec.make(), contains: ["nope", "--val-dir"])
    }

    /// Every file and folder below `root`: relative path, size, modification time, permissions.
    func snapshot(_ root: URL) throws -> [String] {
        let fm = FileManager.default
        let paths = (fm.subpaths(atPath: root.path) ?? []).sorted()
        return try ([""] + paths).map { rel in
            let a = try fm.attributesOfItem(atPath: root.appendingPathComponent(rel).path)
            return "\(rel)|\(a[.size] ?? 0)|\((a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)|\(a[.posixPermissions] ?? 0)"
        }
    }

    func setPermissions(_ root: URL, files: Int, folders: Int) throws {
        let fm = FileManager.default
        for rel in (fm.subpaths(atPath: root.path) ?? []) + [""] {
            var isDir: ObjCBool = false
            let path = root.appendingPathComponent(rel).path
            _ = fm.fileExists(atPath: path, isDirectory: &isDir)
            try fm.setAttributes([.posixPermissions: isDir.boolValue ? folders : files], ofItemAtPath: path)
        }
    }

    func makeWritable(_ root: URL) throws { try setPermissions(root, files: 0o644, folders: 0o755) }

    func testReadOnlyImageFolderIsReadAndNeverWritten() throws {
        let data = dir.appendingPathComponent("photos")
        try writeFolder(data, classes: ["a": 4, "b": 4])
        try setPermissions(data, files: 0o444, folders: 0o555)
        // Root ignores permissions: then the proof is that nothing below the folder changed.
        let probe = data.appendingPathComponent("probe")
        let writable = FileManager.default.createFile(atPath: probe.path, contents: Data())
        if writable { try FileManager.default.removeItem(at: probe) }
        XCTAssertEqual(writable, getuid() == 0, "a read-only folder refuses writes except to root")
        let before = try snapshot(data)

        var spec = DatasetSpec(name: .folder, dataDirectory: data, split: .train)
        spec.cacheDirectory = cache
        spec.showProgress = false
        spec.folderHeldOut = .fraction(0.25, seed: 0)
        let first = try spec.make()
        spec.split = .validation
        let val = try spec.make()
        XCTAssertEqual(first.count + val.count, 8)
        let folder = try ImageFolderDataset(directory: data, cacheDirectory: cache)
        XCTAssertTrue(folder.loadedFromCache, "the second open maps the cache")
        XCTAssertEqual(folder.cacheFile?.deletingLastPathComponent().standardizedFileURL.path, cache.standardizedFileURL.path)
        XCTAssertEqual(try snapshot(data), before, "nothing in the data folder may be created, changed or removed")
    }
}
