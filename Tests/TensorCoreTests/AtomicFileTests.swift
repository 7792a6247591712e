// AtomicFile: whole-file replacement; a simulated crash between the write and the rename leaves
// the old file complete and loadable; failures name the path.
import Foundation
import TestSupport
import XCTest

@testable import TensorCore

final class AtomicFileTests: XCTestCase {
    struct SimulatedCrash: Error {}

    var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("atomicfile-test") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    func testWritesNewFileAndReplacesExistingOneLeavingNoTemporaries() throws {
        let url = directory.appendingPathComponent("a.bin")
        try AtomicFile.write(Data([1, 2, 3]), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data([1, 2, 3]))
        let big = [UInt8]((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try AtomicFile.write(big, to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data(big))
        try AtomicFile.write(Data(), to: url)
        XCTAssertEqual(try Data(contentsOf: url).count, 0)
        XCTAssertEqual(try contents(), ["a.bin"])
    }

    func testCrashBeforeRenameKeepsOldSafeTensorsLoadable() throws {
        let url = directory.appendingPathComponent("weights.safetensors")
        let conv = Parameter(name: "conv1.weight", role: .weight, value: Tensor(shape: [2, 2], values: [1, 2, 3, 4]))
        let count = Buffer(name: "bn1.num_batches_tracked", value: Tensor(shape: [], values: [5]), isInteger: true)
        try SafeTensors.save(parameters: [conv], buffers: [count], metadata: ["step": "old"], to: url)

        // The new version is written in full to a temporary file, then the process "dies".
        conv.value.fill(9)
        count.value[0] = 6
        let newBytes = try SafeTensors.encode(
            SafeTensors.records(parameters: [conv], buffers: [count]), metadata: ["step": "new"])
        XCTAssertThrowsError(try AtomicFile.write(newBytes, to: url, beforeRename: { throw SimulatedCrash() })) {
            XCTAssertTrue($0 is SimulatedCrash)
        }

        // The target still holds the old version, complete and loadable.
        let old = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(old.metadata, ["step": "old"])
        try SafeTensors.load(into: [conv], buffers: [count], from: url)
        XCTAssertEqual(conv.value.array, [1, 2, 3, 4])
        XCTAssertEqual(count.value[0], 5)
        // The torn-off new version sits, complete, in a hidden temporary file next to it.
        let leftovers = try contents().filter { $0 != "weights.safetensors" }
        XCTAssertEqual(leftovers.count, 1)
        XCTAssertTrue(leftovers[0].hasPrefix(".weights.safetensors.tmp-"), leftovers[0])
        XCTAssertEqual(try Data(contentsOf: directory.appendingPathComponent(leftovers[0])), newBytes)

        // The next save succeeds despite the leftover, and replaces the file.
        try AtomicFile.write(newBytes, to: url)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).metadata, ["step": "new"])
    }

    func testStreamingWriteAndAFailingProducerLeaveOldFile() throws {
        let url = directory.appendingPathComponent("s.bin")
        try AtomicFile.write(to: url) { sink in
            for part: [UInt8] in [[1, 2], [], [3]] { try part.withUnsafeBytes { try sink.write($0) } }
        }
        XCTAssertEqual(try Data(contentsOf: url), Data([1, 2, 3]))
        XCTAssertThrowsError(
            try AtomicFile.write(to: url) { sink in
                try [UInt8](repeating: 7, count: 100).withUnsafeBytes { try sink.write($0) }
                throw SimulatedCrash()
            })
        XCTAssertEqual(try Data(contentsOf: url), Data([1, 2, 3]))
        XCTAssertEqual(try contents(), ["s.bin"], "the temporary file of a failed write is removed")
    }

    func testFailuresNameThePath() throws {
        let missingDir = directory.appendingPathComponent("no/such/dir/out.bin")
        assertThrowsMessage(try AtomicFile.write(Data([1]), to: missingDir), containing: [missingDir.path, "No such file"])
        // The target is a directory: the rename fails, the temporary file is removed.
        let dirTarget = directory.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: dirTarget, withIntermediateDirectories: false)
        try Data([0]).write(to: dirTarget.appendingPathComponent("keep"))
        assertThrowsMessage(try AtomicFile.write(Data([1]), to: dirTarget), containing: [dirTarget.path, "rename"])
        XCTAssertEqual(try contents(), ["sub"])
    }
}
