import Data
import Foundation
import SimCLR
import TensorCore
import TestSupport
import XCTest

/// Quick mode of the reader fuzzing: seeded mutants of valid files go through the real readers,
/// in process. Each must load or throw an error that names the file; a trap fails the suite.
/// A mutant that still loads must load what it says (shapes match the element counts read).
/// `SIMCLR_FUZZ_N` sets the mutants per format (default 400); `SIMCLR_FUZZ_SEED` the seed
/// (`scripts/fuzz.sh N SEED`). A failing mutant is kept in $TMPDIR/simclr-fuzz-failures; after a
/// trap, the last mutant is the file left in $TMPDIR/fuzz-*/.
final class ReaderFuzzTests: XCTestCase {
    private var count: Int { Int(ProcessInfo.processInfo.environment["SIMCLR_FUZZ_N"] ?? "") ?? 400 }
    private var seed: UInt64 { UInt64(ProcessInfo.processInfo.environment["SIMCLR_FUZZ_SEED"] ?? "") ?? 1 }
    private var folder: URL!

    override func setUpWithError() throws { folder = try makeTemporaryDirectory("fuzz") }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// Runs `read` on `count` mutants of `valid`; a thrown error must name `path`.
    private func fuzz(_ name: String, _ valid: [UInt8], boundaries: [Int], other: [UInt8],
                      read: (URL) throws -> Void) throws {
        var mutator = Mutator(seed: mixSeed(seed, name.utf8.map(UInt64.init)), boundaries: boundaries, other: other)
        let url = folder.appendingPathComponent(name)
        var refused = 0
        for i in 0..<count {
            let (bytes, kind) = mutator.mutate(valid)
            try Foundation.Data(bytes).write(to: url)
            do {
                try read(url)
            } catch {
                refused += 1
                if !"\(error)".contains(url.lastPathComponent) {
                    XCTFail("\(name) mutant \(i) (\(kind)), kept as \(try keep(bytes, name, i)): the error does not name the file: \(error)")
                }
            }
        }
        XCTAssertGreaterThan(refused, 0, "\(name): no mutant was refused, so the readers were not reached")
    }

    /// Keeps a failing mutant for a regression test; returns its path.
    private func keep(_ bytes: [UInt8], _ name: String, _ index: Int) throws -> String {
        let kept = FileManager.default.temporaryDirectory.appendingPathComponent("simclr-fuzz-failures")
        try FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)
        let url = kept.appendingPathComponent("seed\(seed)-\(index)-\(name)")
        try Foundation.Data(bytes).write(to: url)
        return url.path
    }

    func testSafeTensorsMutants() throws {
        var rng = TestRNG(seed: 5)
        let records = [SafeTensors.Record(name: "conv.weight", tensor: rng.tensor([4, 3, 3, 3])),
                       SafeTensors.Record(name: "bn.running_var", tensor: rng.tensor([4])),
                       SafeTensors.Record(name: "step", tensor: Tensor(shape: [1]), dtype: .i64)]
        let ours = [UInt8](try SafeTensors.encode(records, metadata: ["format": "pt"]))
        // Written by PyTorch's safetensors (tools/): F16, BF16, F64 and I32 tensors too.
        let torch = [UInt8](try Foundation.Data(contentsOf: Fixtures.directory.appendingPathComponent("torch_written.safetensors")))
        for (name, valid, other) in [("model.safetensors", ours, torch), ("torch.safetensors", torch, ours)] {
            let headerEnd = 8 + Int(valid[0]) + Int(valid[1]) << 8
            try fuzz(name, valid, boundaries: [0, 8, headerEnd / 2, headerEnd, valid.count], other: other) { url in
                let file = try SafeTensorsFile(contentsOf: url)
                for name in file.names {
                    let entry = try file.entry(name)
                    let count = [.i64, .i32].contains(entry.dtype) ? try file.integers(named: name).count
                                                                    : try file.tensor(named: name).count
                    XCTAssertEqual(count, entry.shape.reduce(1, *), "\(url.lastPathComponent): \(name)")
                }
            }
        }
    }

    func testConfigMutants() throws {
        var config = TrainConfig()
        config.model.width = 0.25
        let valid = Array(try config.yaml().utf8)
        let nested = Array(("epochs: " + String(repeating: "[", count: 5000)).utf8)
        try fuzz("run.yaml", valid, boundaries: [valid.count / 2], other: nested + [0xFF, 0xFE, 0x00]) { url in
            _ = try TrainConfig.resolve([try ConfigLayer(contentsOf: url, known: TrainConfig.keys)])
        }
    }

    func testNPYMutants() throws {
        var rng = TestRNG(seed: 6)
        let url = folder.appendingPathComponent("features-valid.npy")
        try NPY.write(rng.tensor([5, 7]), to: url)
        let valid = [UInt8](try Foundation.Data(contentsOf: url))
        try fuzz("features.npy", valid, boundaries: [6, 8, 10, valid.count - 140], other: Array(valid.prefix(20))) { url in
            let array = try NPY.read(url)
            switch array.values {
            case .float32(let v): XCTAssertEqual(v.count, array.shape.reduce(1, *))
            case .int64(let v): XCTAssertEqual(v.count, array.shape.reduce(1, *))
            }
        }
    }

    func testImageMutants() throws {
        var rng = TestRNG(seed: 7)
        let image = RGBImage(width: 13, height: 9, pixels: (0..<(13 * 9 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let png = try PNGCodec.encode(image), jpeg = try JPEGCodec.encode(image)
        for (name, valid, other) in [("image.png", png, jpeg), ("image.jpg", jpeg, png)] {
            try fuzz(name, valid, boundaries: [8, 16, 33, valid.count - 12], other: other) { url in
                let decoded = try ImageDecoder.decode(contentsOf: url)
                XCTAssertEqual(decoded.pixels.count, decoded.width * decoded.height * 3)
            }
        }
    }

    func testMetricsLogMutants() throws {
        let lines = (1...4).map { step in
            MetricsRecord(kind: step == 4 ? .epoch : .step, step: step, epoch: 1, loss: 6 - Double(step) / 100,
                          top1: 0.25, top5: 0.5, lr: 0.12, imagesPerSecond: 512.5, wallTime: 1_700_000_000.25,
                          elapsed: Double(step), knnTop1: step == 4 ? 40.5 : nil, knnTop5: step == 4 ? 80 : nil,
                          dataWaitSeconds: 0.5, dataWaitShare: 0.01).jsonLine
        }
        let valid = Array((lines.joined(separator: "\n") + "\n").utf8)
        let nested = Array((String(repeating: "[", count: 5000) + "\n").utf8)
        try fuzz("metrics.jsonl", valid, boundaries: [valid.count / 4, valid.count / 2], other: nested + [0xC3, 0x28]) { url in
            _ = try MetricsLog.read(url)
        }
    }
}
