// Chaos: one tiny `simclr train` run is SIGKILLed at seeded random instants, resumed after each
// kill, and must end exactly as an uninterrupted run. Instants are a fault point's n-th pass
// (inside a checkpoint write, between a checkpoint and its pointer, before pruning, inside a
// metrics line, inside a TensorBoard write, inside the kNN pass, after a step) or a random delay.
// After every kill each checkpoint left on disk must load; at the end the final checkpoint must
// equal the uninterrupted run's byte for byte, and metrics.jsonl and the TensorBoard file must
// hold each step once with the uninterrupted run's values.
//
// CHAOS_KILLS (default 3) and CHAOS_SEED (default 1) set the number of kills and the draw;
// scripts/chaos.sh runs 20.
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class ChaosTests: XCTestCase {
    /// Where a kill lands: a fault point's pass, or a delay after the start.
    enum Instant: CustomStringConvertible {
        case point(FaultPoint, pass: Int)
        case delay(Double)
        var description: String {
            switch self {
            case let .point(p, n): return "\(p.name)@\(n)"
            case let .delay(s): return String(format: "after %.2f s", s)
            }
        }
    }

    /// Passes to draw from per point: within the first few checkpoints, log lines, kNN batches
    /// or steps of an attempt, so that every attempt is killed before the run ends.
    static let passes: [FaultPoint: ClosedRange<Int>] = [
        .atomicWrite: 2...400, .atomicRename: 2...6, .checkpointPointer: 1...3, .checkpointPrune: 1...3,
        .metricsLine: 1...8, .eventsFlush: 1...3, .knnBatch: 1...6, .trainStep: 1...6,
    ]

    func testSIGKILLAtRandomInstantsResumesToTheSameBits() throws {
        let env = ProcessInfo.processInfo.environment
        let kills = Int(env["CHAOS_KILLS"] ?? "") ?? 3
        var rng = TestRNG(seed: UInt64(env["CHAOS_SEED"] ?? "") ?? 1)
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let epochs = 4 + kills + kills / 2  // long enough that every attempt is killed before the end
        let flags = InterruptionCommandTests.flags + [
            "--epochs", "\(epochs)", "--log-interval", "1", "--checkpoint-steps", "3", "--keep-checkpoints", "2", "--knn-interval", "2",
        ]
        let reference = RunFolder(dir.appendingPathComponent("reference"))
        let started = Date()
        let full = try SimclrProcess.run(flags + ["--out", reference.url.path])
        XCTAssertEqual(full.process.terminationStatus, 0, full.stderr)
        let fullSeconds = Date().timeIntervalSince(started)
        let totalSteps = 4 * epochs

        // The kill schedule: a checkpoint write, a log write and the kNN pass first, then a seeded mix.
        var kinds: [FaultPoint?] = [.atomicWrite, .metricsLine, .knnBatch]
        let pool: [FaultPoint?] = FaultPoint.trainingPoints.map { Optional($0) } + [nil, nil, nil]  // nil: a random delay
        while kinds.count < kills { kinds.append(pool[Int(rng.next() % UInt64(pool.count))]) }
        let run = RunFolder(dir.appendingPathComponent("chaos"))
        var log: [String] = []
        var insideWrites = 0, checkpointsLoaded = 0
        for kind in kinds.prefix(kills) {
            let done = (run.latestCheckpoint.flatMap { try? Checkpoint.info($0).step }) ?? 0
            let instant: Instant
            if let point = kind, let range = Self.passes[point] {
                instant = .point(point, pass: range.lowerBound + Int(rng.next() % UInt64(range.count)))
            } else {
                // Within the first 1.5 / kills of the run's time (start-up included), so delays do not end it.
                instant = .delay(0.1 + Double(rng.uniform(0, 1)) * 1.5 * fullSeconds / Double(kills))
            }
            var environment: [String: String] = [:]
            if case let .point(p, n) = instant { environment["SIMCLR_FAULT"] = "\(p.name)@\(n):kill" }
            let child = try SimclrProcess(flags + ["--out", run.url.path], environment: environment)
            if case let .delay(seconds) = instant {
                usleep(UInt32(seconds * 1e6))
                kill(child.pid, SIGKILL)
            }
            child.wait()
            guard child.process.terminationReason == .uncaughtSignal, child.process.terminationStatus == SIGKILL else {
                return XCTFail("kill \(log.count + 1) (\(instant)) did not land: status \(child.process.terminationStatus), "
                               + "the run ended first; \(child.stderr)")
            }
            // Every checkpoint left on disk loads, whatever the instant.
            for url in Checkpoint.files(in: run.checkpoints) {
                let info = try Checkpoint.info(url)
                let model = SimCLRModel(encoder: info.config.encoderConfig, head: info.config.headConfig, seed: 0)
                let optimizer = try info.config.optimization.optimizer.make(parameters: model.parameters,
                                                                             settings: info.config.optimizerSettings)
                XCTAssertNoThrow(try Checkpoint.load(url, into: model, optimizer: optimizer), "\(instant): \(url.lastPathComponent)")
                checkpointsLoaded += 1
            }
            let temporaries = ((try? FileManager.default.contentsOfDirectory(atPath: run.checkpoints.path)) ?? [])
                .filter { $0.hasPrefix(".checkpoint-") && $0.contains(".tmp-") }
            if !temporaries.isEmpty { insideWrites += 1 }
            log.append("\(instant) (from step \(done))" + (temporaries.isEmpty ? "" : " inside a checkpoint write"))
        }
        let last = try SimclrProcess.run(flags + ["--out", run.url.path])
        XCTAssertEqual(last.process.terminationStatus, 0, last.stderr)
        print("chaos: \(log.count) kills survived, \(insideWrites) inside checkpoint writes, \(checkpointsLoaded) checkpoint "
              + "loads after kills; " + log.joined(separator: "; "))

        // The same final bits as the uninterrupted run.
        let name = Checkpoint.fileName(epoch: epochs)
        XCTAssertEqual(try Data(contentsOf: reference.checkpoints.appendingPathComponent(name)),
                       try Data(contentsOf: run.checkpoints.appendingPathComponent(name)), "final weights, bit for bit")
        // metrics.jsonl: each step once, the same values.
        func records(_ r: RunFolder) throws -> [[Double?]] {
            try MetricsLog.read(r.metrics).map {
                [$0.kind == .step ? 0 : 1, Double($0.step), Double($0.epoch), $0.loss, $0.top1, $0.top5, $0.lr, $0.knnTop1, $0.knnTop5]
            }
        }
        XCTAssertEqual(try records(run), try records(reference))
        XCTAssertEqual(try MetricsLog.read(run.metrics).filter { $0.kind == .step }.map(\.step), Array(1...totalSteps))
        // TensorBoard: one file, each step once per tag, the same values.
        let files = TFEventsWriter.eventFiles(in: run.tensorboard)
        XCTAssertEqual(files.count, 1)
        let got = try TFEventsReader.scalars(at: files[0])
        let want = try TFEventsReader.scalars(at: XCTUnwrap(TFEventsWriter.eventFiles(in: reference.tensorboard).first))
        XCTAssertEqual(Set(got.keys), Set(want.keys))
        for (tag, points) in want {
            XCTAssertEqual(got[tag]?.map(\.step), points.map(\.step), tag)
            if !tag.contains("images_per_s") && !tag.contains("wait") { XCTAssertEqual(got[tag]?.map(\.value), points.map(\.value), tag) }
        }
    }
}
