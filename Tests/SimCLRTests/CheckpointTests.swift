// Checkpoints: round trip of weights, BatchNorm statistics and optimizer state; a crash between
// write and rename leaves the previous checkpoint loadable; rotation; the `last` pointer and its
// fallback; refusal of a checkpoint of another architecture.
import Foundation
@testable import SimCLR
import TestSupport
@testable import TensorCore
import XCTest

final class CheckpointTests: XCTestCase {
    private func tiny(width: Double = 0.25) -> TrainConfig {
        var c = TrainConfig.defaults(for: .synthetic)
        c.model.width = width
        c.model.headOut = 16
        c.optimization.optimizer = .sgd
        return c
    }

    /// A model and optimizer whose weights, BN statistics and momentum all differ from a fresh init.
    private func trainedPair(_ c: TrainConfig, seed: UInt64 = 3) throws -> (SimCLRModel, any Optimizer) {
        let model = SimCLRModel(encoder: c.encoderConfig, head: c.headConfig, seed: c.runtime.seed)
        let opt = try c.optimization.optimizer.make(parameters: model.parameters, settings: c.optimizerSettings)
        var rng = TestRNG(seed: seed)
        let x = rng.tensor([8, 3, 16, 16])
        let loss = try NTXentLoss(temperature: 0.5)
        let z = try model.forward(x, training: true)
        let dz = Tensor(shape: z.shape)
        try loss(z, gradient: dz)
        model.backward(dz)
        opt.step(learningRate: 0.1)
        return (model, opt)
    }

    private func assertSameState(_ a: SimCLRModel, _ b: SimCLRModel, _ oa: any Optimizer, _ ob: any Optimizer) {
        for (p, q) in zip(a.parameters, b.parameters) { XCTAssertEqual(p.value.array, q.value.array, p.name) }
        for (p, q) in zip(a.buffers, b.buffers) { XCTAssertEqual(p.value.array, q.value.array, p.name) }
        let sa = oa.state(), sb = ob.state()
        XCTAssertEqual(Set(sa.keys), Set(sb.keys))
        for (k, v) in sa { XCTAssertEqual(v.array, sb[k]?.array, k) }
    }

    func testRoundTripRestoresWeightsStatisticsAndOptimizerState() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = tiny()
        let (model, opt) = try trainedPair(c)
        let url = dir.appendingPathComponent("c.safetensors")
        try Checkpoint.save(model: model, optimizer: opt, config: c, epoch: 4, step: 40, to: url)

        let fresh = SimCLRModel(encoder: c.encoderConfig, head: c.headConfig, seed: 99)
        let freshOpt = try OptimizerKind.sgd.make(parameters: fresh.parameters, settings: c.optimizerSettings)
        XCTAssertNotEqual(fresh.parameters[0].value.array, model.parameters[0].value.array)
        let info = try Checkpoint.load(url, into: fresh, optimizer: freshOpt)
        XCTAssertEqual(info.epoch, 4)
        XCTAssertEqual(info.step, 40)
        XCTAssertEqual(info.config, c)
        assertSameState(model, fresh, opt, freshOpt)
        XCTAssertTrue(opt.state().values.contains { $0.array.contains { $0 != 0 } }, "momentum should be non-zero")

        // Names: torchvision's for the encoder, head.* for the head, optimizer.* for the state.
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertNotNil(file.entries["conv1.weight"])
        XCTAssertNotNil(file.entries["layer4.1.bn2.running_var"])
        XCTAssertEqual(file.entries["bn1.num_batches_tracked"]?.dtype, .i64)
        XCTAssertTrue(file.names.contains { $0.hasPrefix("head.") })
        XCTAssertTrue(file.names.contains { $0.hasPrefix("optimizer.") })

        // The encoder alone loads strictly, ignoring head and optimizer entries.
        var rng = RandomState(seed: 7)
        let encoder = ResNet(c.encoderConfig, rng: &rng)
        try Checkpoint.loadEncoder(url, into: encoder)
        for (p, q) in zip(encoder.parameters, model.encoder.parameters) { XCTAssertEqual(p.value.array, q.value.array) }
    }

    func testCrashBetweenWriteAndRenameLeavesThePreviousCheckpointLoadable() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = tiny()
        let (model, opt) = try trainedPair(c)
        let url = try Checkpoint.saveAndRotate(model: model, optimizer: opt, config: c, epoch: 1, step: 10, in: dir, keep: 3)
        let before = try Data(contentsOf: url)

        // Same file name re-written (as a re-run of the same epoch would), crashing before the rename.
        let (other, otherOpt) = try trainedPair(c, seed: 11)
        let contents = Checkpoint.contents(model: other, optimizer: otherOpt, config: c, epoch: 1, step: 10)
        let bytes = try SafeTensors.encode(contents.records, metadata: contents.metadata)
        struct Crash: Error {}
        XCTAssertThrowsError(try AtomicFile.write(bytes, to: url, beforeRename: { throw Crash() }))
        XCTAssertEqual(try Data(contentsOf: url), before, "the old checkpoint must be untouched")
        XCTAssertEqual(Checkpoint.latest(in: dir), url)
        let restored = SimCLRModel(encoder: c.encoderConfig, head: c.headConfig, seed: 5)
        let restoredOpt = try OptimizerKind.sgd.make(parameters: restored.parameters, settings: c.optimizerSettings)
        try Checkpoint.load(url, into: restored, optimizer: restoredOpt)
        assertSameState(model, restored, opt, restoredOpt)
        // The stray temporary file is never taken for a checkpoint.
        XCTAssertEqual(Checkpoint.files(in: dir), [url])
    }

    func testRotationPointerAndFallback() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = tiny()
        let (model, opt) = try trainedPair(c)
        for e in 1...5 {
            try Checkpoint.saveAndRotate(model: model, optimizer: opt, config: c, epoch: e, step: 10 * e, in: dir, keep: 3)
        }
        XCTAssertEqual(Checkpoint.files(in: dir).map(\.lastPathComponent),
                       ["checkpoint-epoch0003.safetensors", "checkpoint-epoch0004.safetensors", "checkpoint-epoch0005.safetensors"])
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("last"), encoding: .utf8), "checkpoint-epoch0005.safetensors\n")
        XCTAssertEqual(try Checkpoint.info(XCTUnwrap(Checkpoint.latest(in: dir))).epoch, 5)

        // A torn newest file (e.g. copied by hand) is skipped: the pointer's target fails to read,
        // so the newest readable one is used.
        let newest = dir.appendingPathComponent("checkpoint-epoch0005.safetensors")
        let data = try Data(contentsOf: newest)
        try data.prefix(data.count / 2).write(to: newest)
        XCTAssertEqual(try Checkpoint.info(XCTUnwrap(Checkpoint.latest(in: dir))).epoch, 4)
        XCTAssertEqual(try Checkpoint.resolve(dir.path).lastPathComponent, "checkpoint-epoch0004.safetensors")
        XCTAssertThrowsError(try Checkpoint.resolve(dir.appendingPathComponent("nothing").path))
    }

    func testCheckpointOfAnotherArchitectureIsRefusedNamingTheFlag() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = tiny()
        let (model, opt) = try trainedPair(c)
        let url = try Checkpoint.saveAndRotate(model: model, optimizer: opt, config: c, epoch: 1, step: 10, in: dir, keep: 3)
        let info = try Checkpoint.info(url)
        XCTAssertNoThrow(try Checkpoint.checkCompatible(info, with: c))
        var wider = c
        wider.model.width = 0.5
        XCTAssertThrowsError(try Checkpoint.checkCompatible(info, with: wider)) { error in
            let m = error.localizedDescription
            XCTAssertTrue(m.contains("--width") && m.contains("0.25") && m.contains("0.5"), m)
        }
        var adam = c
        adam.optimization.optimizer = .adam
        XCTAssertThrowsError(try Checkpoint.checkCompatible(info, with: adam)) { error in
            XCTAssertTrue(error.localizedDescription.contains("--optimizer"), error.localizedDescription)
        }
        // Loading into the wrong shapes fails before anything is copied.
        let big = SimCLRModel(encoder: wider.encoderConfig, head: wider.headConfig, seed: 0)
        XCTAssertThrowsError(try Checkpoint.load(url, into: big, optimizer: nil))
        // A checkpoint written before a setting existed reads, with that setting's default.
        var contents = Checkpoint.contents(model: model, optimizer: opt, config: c, epoch: 1, step: 10)
        var layer = c.dictionary()
        layer.removeValue(forKey: "crop_min")
        contents.metadata["config"] = String(decoding: try JSONSerialization.data(withJSONObject: layer), as: UTF8.self)
        let older = dir.appendingPathComponent("older.safetensors")
        try SafeTensors.write(contents.records, metadata: contents.metadata, to: older)
        XCTAssertEqual(try Checkpoint.info(older).config, c)
        // A safetensors file that is not a checkpoint is named as such.
        let plain = dir.appendingPathComponent("plain.safetensors")
        try SafeTensors.save(parameters: model.encoder.parameters, buffers: [], metadata: [:], to: plain)
        XCTAssertThrowsError(try Checkpoint.info(plain)) { error in
            XCTAssertTrue(error.localizedDescription.contains("not a swift-simclr checkpoint"), error.localizedDescription)
        }
    }
}
