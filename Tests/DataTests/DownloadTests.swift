import Data
import Foundation
import TestSupport
import XCTest

final class DownloadMD5Tests: XCTestCase {
    func testRFC1321TestSuite() {
        let cases: [(String, String)] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
        ]
        for (text, digest) in cases { XCTAssertEqual(MD5.hex(Array(text.utf8)), digest, "MD5(\"\(text)\")") }
    }

    func testIncrementalUpdatesMatchOneShotAtEveryBoundary() throws {
        var rng = TestRNG(seed: 3)
        let data = (0..<1000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        // 55, 56, 63, 64, 65 bytes straddle the padding cases.
        for n in [55, 56, 57, 63, 64, 65, 127, 128, 1000] {
            let whole = MD5.hex(Array(data.prefix(n)))
            var md5 = MD5()
            var i = 0, step = 1
            while i < n { let j = min(n, i + step); md5.update(Array(data[i..<j])); i = j; step = step % 70 + 13 }
            XCTAssertEqual(md5.hexDigest(), whole, "n = \(n)")
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("f.bin")
        try Data(data).write(to: file)
        XCTAssertEqual(try MD5.hex(ofFile: file), MD5.hex(data))
        // A million 'a's (longer than one read chunk).
        try Data(repeating: UInt8(ascii: "a"), count: 1_000_000).write(to: file)
        XCTAssertEqual(try MD5.hex(ofFile: file), "7707d6ae4e027c70eea2a935c2296f21")
    }
}

final class DownloadArchiveTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try makeTemporaryDirectory("download") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A small "official-like" CIFAR-10 archive, and its DatasetArchive pointing at it.
    func makeArchive() throws -> (URL, DatasetArchive) {
        let source = dir.appendingPathComponent("mirror/cifar-10-binary.tar.gz")
        try FileManager.default.createDirectory(at: source.deletingLastPathComponent(), withIntermediateDirectories: true)
        var files: [(path: String, bytes: [UInt8])] = []
        for b in 1...5 { files.append(("cifar-10-batches-bin/data_batch_\(b).bin", [UInt8](CIFARWriter.records(labels: [[UInt8(b)], [0]], salt: b)))) }
        files.append(("cifar-10-batches-bin/batches.meta.txt", Array(CIFARDataset.cifar10ClassNames.joined(separator: "\n").utf8)))
        try writeTarGz(files, to: source)
        var archive = DatasetArchive.cifar10
        archive.md5 = try MD5.hex(ofFile: source)
        return (source, archive)
    }

    func testEnsureCopiesVerifiesAndExtractsThenReusesTheFolder() throws {
        let (source, archive) = try makeArchive()
        let data = dir.appendingPathComponent("data")
        let folder = try DatasetDownloader.ensure(archive, in: data, source: source, showProgress: false)
        XCTAssertEqual(folder.lastPathComponent, "cifar-10-batches-bin")
        XCTAssertTrue(FileManager.default.fileExists(atPath: data.appendingPathComponent("cifar-10-binary.tar.gz").path))
        let ds = try CIFARDataset(variant: .cifar10, directory: data, split: .train)
        XCTAssertEqual(ds.count, 10)
        XCTAssertEqual(ds.label(at: 2), 2)
        // No staging folders or partial files left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: data.path).filter { $0.hasPrefix(".") || $0.hasSuffix(".partial") }
        XCTAssertEqual(leftovers, [])
        // Second call: the folder exists, so the (now missing) source is never touched.
        try FileManager.default.removeItem(at: source)
        XCTAssertEqual(try DatasetDownloader.ensure(archive, in: data, source: source, showProgress: false).path, folder.path)
    }

    func testAnExistingArchiveIsExtractedWithoutFetching() throws {
        let (source, archive) = try makeArchive()
        let data = dir.appendingPathComponent("data2")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: data.appendingPathComponent(archive.fileName))
        let nowhere = dir.appendingPathComponent("no-such-mirror.tar.gz")
        XCTAssertNoThrow(try DatasetDownloader.ensure(archive, in: data, source: nowhere, showProgress: false))
    }

    func testChecksumMismatchIsRefusedAndTheFileRemoved() throws {
        let (source, good) = try makeArchive()
        var archive = good
        archive.md5 = "00000000000000000000000000000000"
        let data = dir.appendingPathComponent("data3")
        assertThrows(try DatasetDownloader.ensure(archive, in: data, source: source, showProgress: false),
                     contains: ["cifar-10-binary.tar.gz.partial", "00000000000000000000000000000000", good.md5])
        XCTAssertFalse(FileManager.default.fileExists(atPath: data.appendingPathComponent("cifar-10-binary.tar.gz").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: data.appendingPathComponent("cifar-10-binary.tar.gz.partial").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: data.appendingPathComponent("cifar-10-batches-bin").path))
    }

    func testUnreachableSourceSaysWhereToPutTheFiles() throws {
        let data = dir.appendingPathComponent("data4")
        let nowhere = dir.appendingPathComponent("missing/cifar-10-binary.tar.gz")
        assertThrows(try DatasetDownloader.ensure(.cifar10, in: data, source: nowhere, showProgress: false),
                     contains: ["download of", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", data.appendingPathComponent("cifar-10-binary.tar.gz").path,
                                "c32a1d4ab5d03f1284b67883e8d87530"])
    }

    func testCorruptArchiveAndUnsafePathsAreRefused() throws {
        let (source, _) = try makeArchive()
        let bytes = try Data(contentsOf: source)
        let truncated = dir.appendingPathComponent("truncated.tar.gz")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        assertThrows(try DatasetDownloader.extractTarGz(truncated, into: dir.appendingPathComponent("t")), contains: ["truncated.tar.gz", "cannot be extracted"])
        let notArchive = dir.appendingPathComponent("plain.tar.gz")
        try Data("hello".utf8).write(to: notArchive)
        assertThrows(try DatasetDownloader.extractTarGz(notArchive, into: dir.appendingPathComponent("p")), contains: ["plain.tar.gz"])
        let evil = dir.appendingPathComponent("evil.tar.gz")
        try writeTarGz([("ok/a.txt", [1]), ("ok/../../escaped.txt", [2])], to: evil)
        let target = dir.appendingPathComponent("e")
        assertThrows(try DatasetDownloader.extractTarGz(evil, into: target), contains: ["evil.tar.gz", "../../escaped.txt", "outside"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("escaped.txt").path))
        let names = try DatasetDownloader.extractTarGz(source, into: dir.appendingPathComponent("x"))
        XCTAssertEqual(names.count, 6)
    }

    func testOfficialArchiveTableIsThePublishedOne() {
        XCTAssertEqual(DatasetArchive.cifar10.md5, "c32a1d4ab5d03f1284b67883e8d87530")
        XCTAssertEqual(DatasetArchive.cifar100.md5, "03b5dce01913d631647c71ecec9e9cb8")
        XCTAssertEqual(DatasetArchive.stl10.md5, "91f7769df0f17e558f3565bffb0c7dfb")
        XCTAssertEqual(DatasetArchive.forDataset(.stl10)?.extractedFolder, "stl10_binary")
        XCTAssertNil(DatasetArchive.forDataset(.synthetic))
    }
}
