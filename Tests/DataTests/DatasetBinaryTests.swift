import Data
import Foundation
import TestSupport
import XCTest

/// Writes CIFAR-style record files: label byte(s) then R, G, B planes of 32x32.
enum CIFARWriter {
    /// Pixel value of (record, channel, y, x) in a test file: a formula, so tests can check any pixel.
    static func value(_ record: Int, _ c: Int, _ y: Int, _ x: Int, salt: Int = 0) -> UInt8 {
        UInt8(truncatingIfNeeded: record * 31 + c * 85 + y * 7 + x * 3 + salt)
    }

    static func records(labels: [[UInt8]], salt: Int = 0) -> Data {
        var out = Data()
        for (r, l) in labels.enumerated() {
            out.append(contentsOf: l)
            for c in 0..<3 { for y in 0..<32 { for x in 0..<32 { out.append(value(r, c, y, x, salt: salt)) } } }
        }
        return out
    }
}

final class DatasetCIFARTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory("cifar")
        // batch b has 3 + b records with labels (r + b) % 10; salt = b so batches differ.
        for b in 1...5 {
            let labels = (0..<(3 + b)).map { [UInt8(($0 + b) % 10)] }
            try CIFARWriter.records(labels: labels, salt: b).write(to: dir.appendingPathComponent("data_batch_\(b).bin"))
        }
        try CIFARWriter.records(labels: [[9], [0]], salt: 100).write(to: dir.appendingPathComponent("test_batch.bin"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testTrainReadsAllBatchesInOrderWithPlanarToInterleavedConversion() throws {
        let ds = try CIFARDataset(variant: .cifar10, directory: dir, split: .train)
        XCTAssertEqual(ds.count, 4 + 5 + 6 + 7 + 8)
        XCTAssertEqual(ds.classNames, CIFARDataset.cifar10ClassNames)
        XCTAssertEqual(ds.name, "cifar10/train")
        // Global index 4 is batch 2, record 0; index 9 is batch 3, record 0.
        XCTAssertEqual(ds.label(at: 0), 1)
        XCTAssertEqual(ds.label(at: 4), 2)
        XCTAssertEqual(ds.label(at: 10), 4)
        for (index, batch, record) in [(0, 1, 0), (5, 2, 1), (29, 5, 7)] {
            let image = try ds.image(at: index)
            XCTAssertEqual(image.width, 32)
            XCTAssertEqual(image.height, 32)
            for (x, y) in [(0, 0), (31, 0), (5, 17), (31, 31)] {
                for c in 0..<3 {
                    XCTAssertEqual(image.pixels[(y * 32 + x) * 3 + c], CIFARWriter.value(record, c, y, x, salt: batch),
                                   "index \(index) pixel (\(x),\(y)) channel \(c)")
                }
            }
        }
    }

    func testValidationBatchesAreTakenOutOfTraining() throws {
        let train = try CIFARDataset(variant: .cifar10, directory: dir, split: .train, validationBatches: [5])
        let val = try CIFARDataset(variant: .cifar10, directory: dir, split: .validation, validationBatches: [5])
        XCTAssertEqual(train.count, 4 + 5 + 6 + 7)
        XCTAssertEqual(val.count, 8)
        XCTAssertEqual(train.name, "cifar10/train1234")
        XCTAssertEqual(val.name, "cifar10/val5")
        XCTAssertEqual(try val.image(at: 0).pixels[0], CIFARWriter.value(0, 0, 0, 0, salt: 5))
        XCTAssertEqual(val.label(at: 0), 5)
        let subset = try CIFARDataset(variant: .cifar10, directory: dir, split: .batches([3]))
        XCTAssertEqual(subset.count, 6)
        let test = try CIFARDataset(variant: .cifar10, directory: dir, split: .test)
        XCTAssertEqual(test.count, 2)
        XCTAssertEqual(test.label(at: 0), 9)
    }

    func testFindsArchiveSubfolderAndReadsMetaNames() throws {
        let parent = try makeTemporaryDirectory("cifar-parent")
        defer { try? FileManager.default.removeItem(at: parent) }
        let sub = parent.appendingPathComponent("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try CIFARWriter.records(labels: [[3]]).write(to: sub.appendingPathComponent("data_batch_1.bin"))
        let names = (0..<10).map { "c\($0)" }
        try (names.joined(separator: "\n") + "\n\n").write(to: sub.appendingPathComponent("batches.meta.txt"), atomically: true, encoding: .utf8)
        let ds = try CIFARDataset(variant: .cifar10, directory: parent, split: .batches([1]))
        XCTAssertEqual(ds.classNames, names)
        XCTAssertEqual(ds.count, 1)
    }

    func testCIFAR100FineAndCoarseLabels() throws {
        let sub = dir.appendingPathComponent("cifar-100-binary")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try CIFARWriter.records(labels: [[19, 99], [0, 42], [7, 3]], salt: 9).write(to: sub.appendingPathComponent("train.bin"))
        let fine = try CIFARDataset(variant: .cifar100, directory: dir, split: .train)
        XCTAssertEqual(fine.count, 3)
        XCTAssertEqual((0..<3).map { fine.label(at: $0)! }, [99, 42, 3])
        XCTAssertEqual(fine.classNames.count, 100)
        let coarse = try CIFARDataset(variant: .cifar100, directory: dir, split: .train, labelKind: .coarse)
        XCTAssertEqual((0..<3).map { coarse.label(at: $0)! }, [19, 0, 7])
        XCTAssertEqual(coarse.classNames.count, 20)
        // The pixels start after two label bytes.
        XCTAssertEqual(try fine.image(at: 1).pixels[3 * 33 + 2], CIFARWriter.value(1, 2, 1, 1, salt: 9))
    }

    func testRefusals() throws {
        // Missing file names the path and what was expected.
        let empty = try makeTemporaryDirectory("cifar-empty")
        defer { try? FileManager.default.removeItem(at: empty) }
        assertThrows(try CIFARDataset(variant: .cifar10, directory: empty, split: .train), contains: ["data_batch_1.bin", "no such file"])
        // Wrong size (a truncated batch).
        var data = CIFARWriter.records(labels: [[1], [2]])
        data.removeLast(100)
        try data.write(to: dir.appendingPathComponent("data_batch_2.bin"))
        assertThrows(try CIFARDataset(variant: .cifar10, directory: dir, split: .train), contains: ["data_batch_2.bin", "3073-byte records"])
        // Zero-length file.
        try Data().write(to: dir.appendingPathComponent("data_batch_2.bin"))
        assertThrows(try CIFARDataset(variant: .cifar10, directory: dir, split: .batches([2])), contains: ["data_batch_2.bin", "size 0"])
        // Label out of range.
        try CIFARWriter.records(labels: [[1], [10]]).write(to: dir.appendingPathComponent("data_batch_3.bin"))
        assertThrows(try CIFARDataset(variant: .cifar10, directory: dir, split: .batches([3])), contains: ["data_batch_3.bin", "record 1", "label 10"])
        // A folder where a batch file should be.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data_batch_4.bin.d"), withIntermediateDirectories: true)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("data_batch_4.bin"))
        try FileManager.default.moveItem(at: dir.appendingPathComponent("data_batch_4.bin.d"), to: dir.appendingPathComponent("data_batch_4.bin"))
        assertThrows(try CIFARDataset(variant: .cifar10, directory: dir, split: .batches([4])), contains: ["data_batch_4.bin", "not a regular file"])
        // Bad options.
        assertThrows(try CIFARDataset(variant: .cifar10, directory: dir, split: .validation), contains: ["validation batches"])
        assertThrows(try CIFARDataset(variant: .cifar10, directory: dir, split: .train, validationBatches: [6]), contains: ["6", "1...5"])
        assertThrows(try CIFARDataset(variant: .cifar10, directory: dir, split: .train, validationBatches: [1, 2, 3, 4, 5]), contains: ["left for training"])
        // Wrong number of class names.
        try "a\nb\n".write(to: dir.appendingPathComponent("batches.meta.txt"), atomically: true, encoding: .utf8)
        assertThrows(try CIFARDataset(variant: .cifar10, directory: dir, split: .batches([1])), contains: ["batches.meta.txt", "10 class names"])
    }

    func testConcurrentReadsMatchSequentialReads() throws {
        let ds = try CIFARDataset(variant: .cifar10, directory: dir, split: .train)
        let sequential = try (0..<ds.count).map { try ds.image(at: $0) }
        final class Box: @unchecked Sendable { var images: [RGBImage?]; init(_ n: Int) { images = Array(repeating: nil, count: n) } }
        let box = Box(ds.count * 8)
        box.images.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let out = slots
            DispatchQueue.concurrentPerform(iterations: ds.count * 8) { i in out[i] = try? ds.image(at: i % ds.count) }
        }
        for i in 0..<(ds.count * 8) { XCTAssertEqual(box.images[i], sequential[i % ds.count]) }
    }

    func testUnreadableFileIsRefused() throws {
        try XCTSkipIf(getuid() == 0, "root can read any file")
        let url = dir.appendingPathComponent("data_batch_1.bin")
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: url.path)
        assertThrows(try CIFARDataset(variant: .cifar10, directory: dir, split: .batches([1])), contains: ["data_batch_1.bin", "permission denied"])
    }

    func testRealCIFAR10TrainingFiles() throws {
        // ../shared/data/cifar10 relative to the package root, when this machine has it.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shared = root.deletingLastPathComponent().appendingPathComponent("shared/data/cifar10")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: shared.appendingPathComponent("cifar-10-batches-bin/data_batch_1.bin").path),
                          "no CIFAR-10 at \(shared.path)")
        let ds = try CIFARDataset(variant: .cifar10, directory: shared, split: .train)
        XCTAssertEqual(ds.count, 50_000)
        XCTAssertEqual(ds.classNames, CIFARDataset.cifar10ClassNames)
        var perClass = [Int](repeating: 0, count: 10)
        for i in 0..<ds.count { perClass[ds.label(at: i)!] += 1 }
        XCTAssertEqual(perClass, [Int](repeating: 5_000, count: 10))
        let val = try CIFARDataset(variant: .cifar10, directory: shared, split: .validation, validationBatches: [5])
        XCTAssertEqual(val.count, 10_000)
        // The files are the ones the data README lists (MD5 written here, checked against it).
        XCTAssertEqual(try MD5.hex(ofFile: ds.files[0]), "967ca21993a4568c0d8cc039238b5599")
        // A real photo is neither constant nor a single plane repeated.
        let image = try ds.image(at: 123)
        XCTAssertGreaterThan(Set(image.pixels).count, 50)
        let reds = stride(from: 0, to: 3072, by: 3).map { image.pixels[$0] }
        let blues = stride(from: 2, to: 3072, by: 3).map { image.pixels[$0] }
        XCTAssertNotEqual(reds, blues)
    }
}

/// Writes STL-10 style files: 96x96x3 images, channels column-major.
enum STLWriter {
    static func value(_ image: Int, _ c: Int, _ y: Int, _ x: Int, salt: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: image * 13 + c * 71 + y * 5 + x * 11 + salt)
    }

    static func images(_ n: Int, salt: Int) -> Data {
        var out = Data(capacity: n * 27_648)
        for i in 0..<n { for c in 0..<3 { for x in 0..<96 { for y in 0..<96 { out.append(value(i, c, y, x, salt: salt)) } } } }
        return out
    }
}

final class DatasetSTL10Tests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        let parent = try makeTemporaryDirectory("stl")
        dir = parent.appendingPathComponent("stl10_binary")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try STLWriter.images(3, salt: 0).write(to: dir.appendingPathComponent("train_X.bin"))
        try Data([1, 10, 4]).write(to: dir.appendingPathComponent("train_y.bin"))
        try STLWriter.images(2, salt: 50).write(to: dir.appendingPathComponent("test_X.bin"))
        try Data([2, 3]).write(to: dir.appendingPathComponent("test_y.bin"))
        try STLWriter.images(2, salt: 200).write(to: dir.appendingPathComponent("unlabeled_X.bin"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }

    func testColumnMajorChannelsAreTransposed() throws {
        let ds = try STL10Dataset(directory: dir.deletingLastPathComponent(), split: .train)
        XCTAssertEqual(ds.count, 3)
        XCTAssertEqual((0..<3).map { ds.label(at: $0)! }, [0, 9, 3])
        XCTAssertEqual(ds.classNames, STL10Dataset.defaultClassNames)
        let image = try ds.image(at: 2)
        XCTAssertEqual(image.width, 96)
        for (x, y) in [(0, 0), (95, 0), (0, 95), (10, 60), (95, 95)] {
            for c in 0..<3 {
                XCTAssertEqual(image.pixels[(y * 96 + x) * 3 + c], STLWriter.value(2, c, y, x, salt: 0), "(\(x),\(y)) c\(c)")
            }
        }
    }

    func testSplits() throws {
        let test = try STL10Dataset(directory: dir, split: .test)
        XCTAssertEqual(test.count, 2)
        XCTAssertEqual(test.label(at: 1), 2)
        let unlabeled = try STL10Dataset(directory: dir, split: .unlabeled)
        XCTAssertEqual(unlabeled.count, 2)
        XCTAssertNil(unlabeled.label(at: 0))
        let both = try STL10Dataset(directory: dir, split: .trainUnlabeled)
        XCTAssertEqual(both.count, 5)
        XCTAssertEqual(both.name, "stl10/train+unlabeled")
        XCTAssertEqual(both.label(at: 2), 3)
        XCTAssertNil(both.label(at: 3))
        XCTAssertEqual(try both.image(at: 4).pixels[0], STLWriter.value(1, 0, 0, 0, salt: 200))
    }

    func testRefusals() throws {
        try Data([1, 11, 4]).write(to: dir.appendingPathComponent("train_y.bin"))
        assertThrows(try STL10Dataset(directory: dir, split: .train), contains: ["train_y.bin", "record 1", "label 11", "1...10"])
        try Data([0, 1, 4]).write(to: dir.appendingPathComponent("train_y.bin"))
        assertThrows(try STL10Dataset(directory: dir, split: .train), contains: ["label 0"])
        try Data([1, 2]).write(to: dir.appendingPathComponent("train_y.bin"))
        assertThrows(try STL10Dataset(directory: dir, split: .train), contains: ["train_y.bin", "3 bytes"])
        var x = STLWriter.images(1, salt: 0)
        x.removeLast(7)
        try x.write(to: dir.appendingPathComponent("test_X.bin"))
        assertThrows(try STL10Dataset(directory: dir, split: .test), contains: ["test_X.bin", "27648-byte images"])
        try FileManager.default.removeItem(at: dir.appendingPathComponent("unlabeled_X.bin"))
        assertThrows(try STL10Dataset(directory: dir, split: .unlabeled), contains: ["unlabeled_X.bin", "no such file"])
    }
}

final class DatasetSyntheticTests: XCTestCase {
    func testDeterministicBalancedAndVaried() throws {
        let a = try SyntheticDataset(count: 40, resolution: 32, seed: 7)
        let b = try SyntheticDataset(count: 40, resolution: 32, seed: 7)
        let c = try SyntheticDataset(count: 40, resolution: 32, seed: 8)
        XCTAssertEqual(a.classNames.count, 10)
        var perClass = [Int](repeating: 0, count: 10)
        for i in 0..<40 { perClass[a.label(at: i)!] += 1 }
        XCTAssertEqual(perClass, [Int](repeating: 4, count: 10))
        for i in [0, 13, 39] {
            let image = try a.image(at: i)
            XCTAssertEqual(image, try b.image(at: i))
            XCTAssertNotEqual(image, try c.image(at: i))
            XCTAssertEqual(image.width, 32)
        }
        // Two images of one class differ (random colours / geometry), and images of the same
        // index in other datasets differ.
        XCTAssertNotEqual(try a.image(at: 0), try a.image(at: 10))
    }

    func testPatternIsVisibleInGrayscale() throws {
        // The texture must survive grayscale: each image's luminance must vary substantially.
        let ds = try SyntheticDataset(count: 100, resolution: 32, seed: 1)
        for i in 0..<100 {
            let image = try ds.image(at: i)
            var lo: Float = 255, hi: Float = 0
            for p in 0..<(32 * 32) {
                let l = 0.299 * Float(image.pixels[p * 3]) + 0.587 * Float(image.pixels[p * 3 + 1]) + 0.114 * Float(image.pixels[p * 3 + 2])
                lo = min(lo, l); hi = max(hi, l)
            }
            XCTAssertGreaterThan(hi - lo, 50, "image \(i) (class \(ds.classNames[ds.label(at: i)!])) is nearly flat in grayscale")
        }
    }

    func testAnyResolutionAndRefusals() throws {
        for side in [8, 17, 96] {
            let image = try SyntheticDataset(count: 10, resolution: side, seed: 3).image(at: 9)
            XCTAssertEqual(image.width, side)
            XCTAssertEqual(image.pixels.count, side * side * 3)
        }
        assertThrows(try SyntheticDataset(count: 0), contains: ["count", "0"])
        assertThrows(try SyntheticDataset(count: 5, resolution: 4), contains: ["resolution", "4"])
    }
}

/// Asserts that `body` throws an error whose description contains every string in `contains`.
func assertThrows<T>(_ body: @autoclosure () throws -> T, contains: [String], file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(contains)", file: file, line: line)
    } catch {
        let text = error.localizedDescription
        for needle in contains where !text.contains(needle) {
            XCTFail("error \"\(text)\" does not contain \"\(needle)\"", file: file, line: line)
        }
    }
}
