// Parsing of the `simclr` commands, including the inputs that must be refused.
import ArgumentParser
import Foundation
@testable import SimCLRCLI
import XCTest

final class CommandParsingTests: XCTestCase {
    func testBenchStepDefaultsAndRefusals() throws {
        let ok = try SimCLRCommand.parseAsRoot(["bench", "step", "--width", "0.25", "--batch", "64", "--threads", "2"])
        let step = try XCTUnwrap(ok as? StepBench)
        XCTAssertEqual(step.width, 0.25)
        XCTAssertEqual(step.batch, 64)
        for bad in [["--width", "0"], ["--batch", "1"], ["--arch", "resnet99"], ["--stem", "tiny"], ["--steps", "0"], ["--conv-algorithm", "fft"]] {
            XCTAssertThrowsError(try SimCLRCommand.parseAsRoot(["bench", "step"] + bad), "\(bad)") { error in
                let message = SimCLRCommand.message(for: error)
                XCTAssertTrue(message.contains(bad[0]), "message '\(message)' should name \(bad[0])")
            }
        }
    }

    func testPreviewAndDatasetRefusals() throws {
        XCTAssertNoThrow(try SimCLRCommand.parseAsRoot(["preview", "--dataset", "synthetic", "--images", "2"]))
        for (args, flag) in [(["--dataset", "imagenet"], "--dataset"), (["--images", "0"], "--images"),
                             (["--on-bad-image", "ignore"], "--on-bad-image"), (["--val-batches", "7"], "--val-batches")] {
            XCTAssertThrowsError(try SimCLRCommand.parseAsRoot(["preview"] + args)) { error in
                XCTAssertTrue(SimCLRCommand.message(for: error).contains(flag), "\(args): \(SimCLRCommand.message(for: error))")
            }
        }
    }

    func testPreviewWritesAPNGOfTheExpectedSize() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("simclr-preview-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("p.png").path
        var cmd = try XCTUnwrap(SimCLRCommand.parseAsRoot(["preview", "--dataset", "synthetic", "--synthetic-count", "16",
                                                           "--images", "3", "--views", "2", "--out", out]) as? PreviewCommand)
        try cmd.run()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // IHDR width and height (big-endian) at bytes 16..23: 3 columns and 3 rows of 32 px, 2 px gaps around each.
        let w = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }, h = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(w, 3 * 32 + 4 * 2)
        XCTAssertEqual(h, 3 * 32 + 4 * 2)
    }
}
