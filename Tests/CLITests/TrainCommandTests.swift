// `simclr train` from the command line: refusals before any work, the config file layered under
// the flags, a real SIGKILL of the `simclr` binary then a resume that ends bit-identical to an
// uninterrupted run, and the evaluation / embed / export commands on the tiny run's checkpoint.
import ArgumentParser
import Foundation
@testable import SimCLR
@testable import SimCLRCLI
import TestSupport
import XCTest

final class TrainCommandTests: XCTestCase {
    /// 32 synthetic 16 x 16 images, batch 8 (4 steps per epoch), width 0.25.
    static let tinyTrainFlags = ["--dataset", "synthetic", "--synthetic-count", "32", "--image-size", "16", "--width", "0.25",
                                 "--head-out", "16", "--batch-size", "8", "--log-interval", "2", "--threads", "2", "--quiet"]

    func testRefusalsNameTheFlagBeforeAnyWork() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = ["--out", dir.appendingPathComponent("run").path]
        let cases: [([String], String)] = [
            (["--epochs", "0"], "--epochs"), (["--batch-size", "1"], "--batch-size"), (["--temperature", "0"], "--temperature"),
            (["--views", "1"], "--views"), (["--width", "0"], "--width"), (["--width", "-1"], "--width"),
            (["--arch", "resnet99"], "--arch"), (["--optimizer", "rmsprop"], "--optimizer"), (["--dataset", "imagenet"], "--dataset"),
            (["--warmup-epochs", "5", "--epochs", "2"], "--warmup-epochs"), (["--val-batches", "x"], "--val-batches"),
            (["--loader-threads", "0"], "--loader-threads"), (["--conv-algorithm", "fft"], "--conv-algorithm"),
            (["--config", dir.appendingPathComponent("missing.yaml").path], "--config"),
        ]
        for (args, flag) in cases {
            XCTAssertThrowsError(try SimCLRCommand.parseAsRoot(["train"] + out + args), "\(args)") { error in
                let m = SimCLRCommand.message(for: error)
                XCTAssertTrue(m.contains(flag), "\(args): '\(m)' should name \(flag)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run").path), "nothing may be created")

        // A config file: unknown keys are refused with the file's name; flags override its values.
        let yaml = dir.appendingPathComponent("run.yaml")
        try "epochs: 3\nbatch_sise: 16\n".write(to: yaml, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SimCLRCommand.parseAsRoot(["train", "--config", yaml.path] + out)) { error in
            let m = SimCLRCommand.message(for: error)
            XCTAssertTrue(m.contains("run.yaml") && m.contains("batch_sise"), m)
        }
        try "epochs: 3\nbatch_size: 16\ntemperature: 0.2\n".write(to: yaml, atomically: true, encoding: .utf8)
        let cmd = try XCTUnwrap(SimCLRCommand.parseAsRoot(["train", "--config", yaml.path, "--batch-size", "32"] + out) as? TrainCommand)
        let c = try cmd.resolvedConfig()
        XCTAssertEqual(c.optimization.epochs, 3)
        XCTAssertEqual(c.optimization.batchSize, 32)
        XCTAssertEqual(c.optimization.temperature, 0.2)
        XCTAssertEqual(c.model.stem, .cifar)
    }

    func testMissingDataIsRefusedNamingTheFolder() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("no-cifar-here").path
        var cmd = try XCTUnwrap(SimCLRCommand.parseAsRoot(
            ["train", "--dataset", "cifar10", "--data-dir", missing, "--out", dir.appendingPathComponent("run").path, "--quiet"])
            as? TrainCommand)
        XCTAssertThrowsError(try cmd.run()) { error in
            XCTAssertTrue(error.localizedDescription.contains(missing), error.localizedDescription)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run").path), "no run folder before the data is found")
    }

    /// The `simclr` executable next to the test bundle.
    static func simclrBinary() throws -> URL {
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(), Bundle.main.bundleURL,
                          Bundle.main.bundleURL.deletingLastPathComponent()]
        for dir in candidates {
            let url = dir.appendingPathComponent("simclr")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw XCTSkip("simclr executable not found next to the tests (looked in \(candidates.map(\.path)))")
    }

    private func runSimclr(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = try Self.simclrBinary()
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p
    }

    func testSIGKILLedRunResumesToTheSameBits() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        let flags = ["train"] + Self.tinyTrainFlags + ["--epochs", "3"]
        let full = try runSimclr(flags + ["--out", a])
        XCTAssertEqual(full.terminationStatus, 0)

        // Killed by SIGKILL after step 6 (mid epoch 2, epoch 1's checkpoint on disk).
        let killed = try runSimclr(flags + ["--out", b, "--debug-kill-after-step", "6"])
        XCTAssertEqual(killed.terminationReason, .uncaughtSignal)
        XCTAssertEqual(killed.terminationStatus, SIGKILL)
        XCTAssertEqual(Checkpoint.files(in: RunFolder(URL(fileURLWithPath: b)).checkpoints).map(\.lastPathComponent),
                       [Checkpoint.fileName(epoch: 1)])

        // Re-running the same command continues from the checkpoint.
        let resumed = try runSimclr(flags + ["--out", b])
        XCTAssertEqual(resumed.terminationStatus, 0)
        let name = "checkpoints/" + Checkpoint.fileName(epoch: 3)
        let wa = try Data(contentsOf: URL(fileURLWithPath: a).appendingPathComponent(name))
        let wb = try Data(contentsOf: URL(fileURLWithPath: b).appendingPathComponent(name))
        XCTAssertEqual(wa, wb, "the resumed run must end with the same weights and optimizer state, bit for bit")
        let steps = try MetricsLog.read(RunFolder(URL(fileURLWithPath: b)).metrics).filter { $0.kind == .step }.map(\.step)
        XCTAssertEqual(steps, [2, 4, 6, 8, 10, 12])
    }

    func testEvalEmbedAndExportOnATinyRun() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        var train = try XCTUnwrap(SimCLRCommand.parseAsRoot(["train"] + Self.tinyTrainFlags + ["--epochs", "1", "--out", run]) as? TrainCommand)
        try train.run()
        let data = ["--dataset", "synthetic", "--synthetic-count", "40", "--image-size", "16", "--threads", "2"]

        // Linear and kNN: JSON lines with accuracies in percent on the synthetic val split.
        let json = dir.appendingPathComponent("eval.jsonl").path
        var linear = try XCTUnwrap(SimCLRCommand.parseAsRoot(["eval", "linear", "--checkpoint", run, "--max-iter", "50", "--json", json] + data) as? LinearEval)
        try linear.run()
        var knn = try XCTUnwrap(SimCLRCommand.parseAsRoot(["eval", "knn", "--checkpoint", run, "--json", json] + data) as? KNNEval)
        try knn.run()
        var floor = try XCTUnwrap(SimCLRCommand.parseAsRoot(["eval", "knn", "--checkpoint", run, "--random-init", "--json", json] + data) as? KNNEval)
        try floor.run()
        // The floor is the very encoder the run started from (same seed, same draws).
        let opts = try EncoderOptions.parse(["--checkpoint", run, "--random-init"])
        let start = try opts.load(dataset: .synthetic).encoder
        let initial = SimCLRModel(encoder: start.config, head: ProjectionHeadConfig(outputDim: 16), seed: 0).encoder
        for (p, q) in zip(start.parameters, initial.parameters) { XCTAssertEqual(p.value.array, q.value.array, p.name) }
        let lines = try String(contentsOfFile: json, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        for line in lines {
            let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(obj["split"] as? String, "val")
            let top1 = try XCTUnwrap(obj["top1"] as? Double), top5 = try XCTUnwrap(obj["top5"] as? Double)
            XCTAssertTrue((0...100).contains(top1) && top5 >= top1, "\(obj)")
        }
        XCTAssertThrowsError(try SimCLRCommand.parseAsRoot(["eval", "linear"] + data)) { error in
            XCTAssertTrue(SimCLRCommand.message(for: error).contains("--checkpoint"))
        }

        // embed: [N, d] float32 and [N] int64 labels, readable back.
        let h = dir.appendingPathComponent("h.npy").path
        var embed = try XCTUnwrap(SimCLRCommand.parseAsRoot(["embed", "--checkpoint", run, "--out", h] + data) as? EmbedCommand)
        try embed.run()
        let features = try NPY.read(URL(fileURLWithPath: h))
        XCTAssertEqual(features.shape, [40, 128])
        XCTAssertEqual(features.descr, "<f4")
        let labels = try NPY.read(dir.appendingPathComponent("h_labels.npy"))
        XCTAssertEqual(labels.int64Values, (0..<40).map { Int64($0 % 10) })
        // The features are those of the checkpoint's encoder in eval mode.
        let ckpt = try Checkpoint.resolve(run)
        let info = try Checkpoint.info(ckpt)
        var rng = RandomState(seed: 1)
        let encoder = ResNet(info.config.encoderConfig, rng: &rng)
        try Checkpoint.loadEncoder(ckpt, into: encoder)
        let direct = try FeatureExtraction.extract(encoder: encoder, dataset: SyntheticDataset(count: 40, resolution: 16, seed: 0),
                                                   augmentation: .cifar(size: 16))
        assertClose(try XCTUnwrap(features.tensor), direct.features, rtol: 1e-5, atol: 1e-6)

        // export: encoder tensors only, torchvision names, loadable strictly, equal to the checkpoint's.
        let exported = dir.appendingPathComponent("encoder.safetensors")
        var export = try XCTUnwrap(SimCLRCommand.parseAsRoot(["export", "--checkpoint", run, "--out", exported.path]) as? ExportCommand)
        try export.run()
        let file = try SafeTensorsFile(contentsOf: exported)
        XCTAssertFalse(file.names.contains { $0.hasPrefix("head.") || $0.hasPrefix("optimizer.") })
        XCTAssertEqual(Set(file.names), Set(encoder.parameters.map(\.name) + encoder.buffers.map(\.name)))
        var rng2 = RandomState(seed: 2)
        let reloaded = ResNet(info.config.encoderConfig, rng: &rng2)
        try SafeTensors.load(into: reloaded.parameters, buffers: reloaded.buffers, from: exported)
        for (p, q) in zip(reloaded.parameters, encoder.parameters) { XCTAssertEqual(p.value.array, q.value.array, p.name) }
        XCTAssertEqual(try Checkpoint.info(exported).epoch, 1)
    }
}
