// .npy files: header bytes as NumPy writes them, 64-byte alignment, round trips, refusals.
import Foundation
import SimCLR
import TensorCore
import TestSupport
import XCTest

final class NPYTests: XCTestCase {
    func testHeaderMatchesNumPyBytes() {
        // numpy 2.x: np.save(f, np.zeros((3, 4), '<f4')) starts with these 128 bytes.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"
        let expected = [0x93] + Array("NUMPY".utf8) + [1, 0, 0x76, 0] + Array(dict.utf8)
            + [UInt8](repeating: 0x20, count: 118 - dict.utf8.count - 1) + [0x0A]
        XCTAssertEqual(NPY.header(descr: "<f4", shape: [3, 4]), expected)
        let labels = NPY.header(descr: "<i8", shape: [5])
        let labelDict = "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }"
        XCTAssertEqual(String(decoding: labels[10..<10 + labelDict.utf8.count], as: UTF8.self), labelDict)
        XCTAssertEqual(labels.count, 128)
        for shape in [[0], [1], [7, 3], [100_000, 2048], [2, 3, 4, 5], [123_456_789_012, 1]] {
            let h = NPY.header(descr: "<f4", shape: shape)
            XCTAssertEqual(h.count % 64, 0, "\(shape)")
            XCTAssertEqual(h.last, 0x0A)
            XCTAssertEqual(Int(h[8]) | Int(h[9]) << 8, h.count - 10)
        }
    }

    func testFloatRoundTrip() throws {
        let dir = try makeTemporaryDirectory("npy")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = TestRNG(seed: 3)
        let t = rng.tensor([17, 5])
        t[0] = -0.0; t[1] = .greatestFiniteMagnitude; t[2] = .leastNonzeroMagnitude
        let url = dir.appendingPathComponent("h.npy")
        try NPY.write(t, to: url)
        keepForInspection(url)
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        XCTAssertEqual(size, 128 + 17 * 5 * 4)
        let back = try NPY.read(url)
        XCTAssertEqual(back.shape, [17, 5])
        XCTAssertEqual(back.descr, "<f4")
        XCTAssertEqual(back.tensor!.array.map(\.bitPattern), t.array.map(\.bitPattern))
    }

    func testLabelsRoundTrip() throws {
        let dir = try makeTemporaryDirectory("npy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("y.npy")
        let labels = [0, 9, 3, 3, 7, 1]
        try NPY.write(labels: labels, to: url)
        keepForInspection(url)
        let back = try NPY.read(url)
        XCTAssertEqual(back.shape, [6])
        XCTAssertEqual(back.descr, "<i8")
        XCTAssertEqual(back.int64Values, labels.map(Int64.init))
        let bytes = try Data(contentsOf: url)
        XCTAssertEqual(bytes.count, 128 + 48)
        XCTAssertEqual(Array(bytes[128 + 8..<128 + 16]), [9, 0, 0, 0, 0, 0, 0, 0], "little-endian int64")
    }

    func testStreamingWriterChecksTheShape() throws {
        let dir = try makeTemporaryDirectory("npy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("h.npy")
        let w = try NPYWriter(url: url, descr: "<f4", shape: [4, 2])
        let rows: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        try rows[0..<4].withUnsafeBufferPointer { try w.append($0) }
        try rows[4...].withUnsafeBufferPointer { try w.append($0) }
        XCTAssertThrowsError(try rows.withUnsafeBufferPointer { try w.append($0) })
        try w.finish()
        XCTAssertEqual(try NPY.read(url).tensor!.array, rows)

        let short = try NPYWriter(url: url, descr: "<f4", shape: [4, 2])
        try rows[0..<6].withUnsafeBufferPointer { try short.append($0) }
        XCTAssertThrowsError(try short.finish()) { error in
            XCTAssertTrue(error.localizedDescription.contains(url.path))
        }
    }

    func testReadsOtherDTypesAndRefusesBadFiles() throws {
        let dir = try makeTemporaryDirectory("npy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("x.npy")
        // '<f8' and '<i4' (what numpy writes by default for Python floats / some ints) are converted.
        var f8 = Data(NPY.header(descr: "<f8", shape: [2]))
        for v in [1.5, -2.25] { withUnsafeBytes(of: v) { f8.append(contentsOf: $0) } }
        try f8.write(to: url)
        XCTAssertEqual(try NPY.read(url).tensor!.array, [1.5, -2.25])
        var i4 = Data(NPY.header(descr: "<i4", shape: [3]))
        for v: Int32 in [4, -1, 9] { withUnsafeBytes(of: v) { i4.append(contentsOf: $0) } }
        try i4.write(to: url)
        XCTAssertEqual(try NPY.read(url).int64Values, [4, -1, 9])

        try Data("hello world, not an array".utf8).write(to: url)
        XCTAssertThrowsError(try NPY.read(url)) { XCTAssertTrue($0.localizedDescription.contains("magic")) }
        try Data(NPY.header(descr: ">f4", shape: [1]) + [0, 0, 0, 0]).write(to: url)
        XCTAssertThrowsError(try NPY.read(url)) { XCTAssertTrue($0.localizedDescription.contains("'>f4'")) }
        try Data(NPY.header(descr: "<f4", shape: [3]) + [0, 0, 0, 0]).write(to: url)
        XCTAssertThrowsError(try NPY.read(url)) { error in
            guard case NPYError.sizeMismatch(_, expected: 12, actual: 4) = error else { return XCTFail("\(error)") }
        }
        // Found by ReaderFuzzTests: a shape whose element count overflows Int trapped.
        try Data(NPY.header(descr: "<f4", shape: [9_999_999_999, 9_999_999_999]) + [0, 0, 0, 0]).write(to: url)
        XCTAssertThrowsError(try NPY.read(url)) { error in
            let m = error.localizedDescription
            XCTAssertTrue(m.contains(url.path) && m.contains("more elements than any file can hold"), m)
        }
    }
}
