// STL-10's 2.7 GB unlabeled file is memory-mapped, never read whole: a sparse file of the
// official size stands for it (it takes no disk space), and opening train+unlabeled and reading
// images from it must neither read the file into memory (resident memory grows by far less than
// its size) nor fail to map it (the mapping shows in /proc/self/maps).
import Data
import Foundation
import TestSupport
import XCTest

final class STL10MappingTests: XCTestCase {
    /// The resident set size of this process, in bytes (Linux).
    static func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { throw XCTSkip("no VmRSS in /proc/self/status") }
        return kib * 1024
    }

    func testLargeUnlabeledFileIsMappedNotRead() throws {
        let parent = try makeTemporaryDirectory("stl-large")
        defer { try? FileManager.default.removeItem(at: parent) }
        let dir = parent.appendingPathComponent("stl10_binary")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try STLWriter.images(2, salt: 0).write(to: dir.appendingPathComponent("train_X.bin"))
        try Data([3, 7]).write(to: dir.appendingPathComponent("train_y.bin"))
        let unlabeled = dir.appendingPathComponent("unlabeled_X.bin")
        let n = 100_000, size = n * STL10Dataset.imageBytes  // 2,764,800,000 bytes, as the official file
        XCTAssertTrue(FileManager.default.createFile(atPath: unlabeled.path, contents: nil))
        let handle = try FileHandle(forWritingTo: unlabeled)
        try handle.truncate(atOffset: UInt64(size))  // sparse: no block is written
        // One real image at the very end, to check the offset arithmetic past 2^31.
        try handle.seek(toOffset: UInt64(size - STL10Dataset.imageBytes))
        try handle.write(contentsOf: STLWriter.images(1, salt: 90))
        try handle.close()
        var info = stat()
        XCTAssertEqual(stat(unlabeled.path, &info), 0)
        try XCTSkipIf(Int(info.st_blocks) * 512 > size / 4, "the file system does not keep sparse files sparse")

        let before = try Self.residentBytes()
        var spec = DatasetSpec(name: .stl10, dataDirectory: parent, split: .trainAndUnlabeled)
        spec.showProgress = false
        let ds = try spec.make()
        XCTAssertEqual(ds.count, 2 + n)
        XCTAssertEqual(ds.label(at: 1), 6)
        XCTAssertNil(ds.label(at: 2))
        XCTAssertNil(ds.label(at: 2 + n - 1))
        let last = try ds.image(at: 2 + n - 1)
        for (x, y, c) in [(0, 0, 0), (95, 0, 1), (17, 80, 2)] {
            XCTAssertEqual(last.pixels[(y * 96 + x) * 3 + c], STLWriter.value(0, c, y, x, salt: 90))
        }
        for i in stride(from: 2, to: 2 + n, by: 9_973) { _ = try ds.image(at: i) }  // holes read as black
        XCTAssertEqual(try ds.image(at: 50_000).pixels.max(), 0)
        let grown = try Self.residentBytes() - before
        XCTAssertLessThan(grown, 256 << 20, "resident memory grew by \(grown) bytes for a \(size)-byte file: it was read, not mapped")
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        XCTAssertTrue(maps.contains(unlabeled.path), "unlabeled_X.bin must be memory-mapped")
        withExtendedLifetime(ds) {}
    }
}
