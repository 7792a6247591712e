// The memory check before training: the machine's and the cgroup's available memory are read
// right, and a batch whose estimated peak does not fit is refused (with the estimate and the
// largest batch that fits) before anything large is allocated. That the estimate matches the
// measured peak is checked on `simclr bench step` in a child process (CLITests).
import Foundation
@testable import SimCLR
import TestSupport
import XCTest

final class MemoryEstimateTests: XCTestCase {
    func testAvailableMemoryIsReadFromMeminfoAndTheCgroupLimit() throws {
        let meminfo = "MemTotal:       24605184 kB\nMemFree:         1000000 kB\nMemAvailable:   20971520 kB\nBuffers: 1 kB\n"
        XCTAssertEqual(MemoryBudget.memAvailable(meminfo: meminfo), 20 << 30)
        XCTAssertNil(MemoryBudget.memAvailable(meminfo: "MemTotal: 1 kB\n"))
        XCTAssertNil(MemoryBudget.cgroupBudget(limit: "max\n", usage: "123\n", stat: nil, limitName: "memory.max"), "no limit")
        XCTAssertNil(MemoryBudget.cgroupBudget(limit: "9223372036854771712\n", usage: "1", stat: nil, limitName: "memory.limit_in_bytes"),
                     "cgroup v1's 'unlimited'")
        let limited = try XCTUnwrap(MemoryBudget.cgroupBudget(
            limit: "4294967296\n", usage: "3221225472\n", stat: "anon 1\ninactive_file 536870912\nactive_file 2\n", limitName: "memory.max"))
        XCTAssertEqual(limited.availableBytes, (4 << 30) - (3 << 30) + (512 << 20), "the limit minus the usage, reclaimable cache excluded")
        XCTAssertTrue(limited.source.contains("memory.max"), limited.source)
        XCTAssertEqual(MemoryBudget.cgroupBudget(limit: "100", usage: "500", stat: nil, limitName: "memory.max")?.availableBytes, 0)
        // This machine: something available, and this process resident.
        XCTAssertGreaterThan(try XCTUnwrap(MemoryBudget.current()).availableBytes, 0)
        XCTAssertGreaterThan(MemoryBudget.residentBytes(), 1 << 20)
    }

    func testABatchThatDoesNotFitIsRefusedWithTheLargestThatFits() throws {
        let c = MidEpochCheckpointTests.config(epochs: 1, checkpointSteps: 0)  // batch 8 of 32 images
        ComputeThreads.set(c.runtime.threads)  // as the run will: scratchpads depend on the thread count
        let model = SimCLRModel(encoder: c.encoderConfig, head: c.headConfig, seed: c.runtime.seed)
        func added(_ batch: Int) throws -> Int {
            var x = c
            x.optimization.batchSize = batch
            return try MemoryEstimate.training(config: x, model: model, monitor: nil, process: 0).added
        }
        let sizes = try (2...8).map(added)
        XCTAssertEqual(sizes, sizes.sorted(), "more images, more memory")
        XCTAssertGreaterThan(sizes[6] - sizes[0], 1 << 20)

        func run(budget: Int) -> Error? {
            let dir = try! makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            // The training images only: no labelled splits, so no kNN monitor or neighbours picture to count.
            let t = MidEpochCheckpointTests.quiet(c, dir, data: TrainingData(train: try! c.data.open(.train, showProgress: false)))
            t.memoryBudget = { MemoryBudget(availableBytes: budget, source: "a test budget") }
            do { try t.run(); return nil } catch { return error }
        }
        // Between batch 5's and 6's estimates: 5 is the largest that fits.
        let error = run(budget: (sizes[3] + sizes[4]) / 2)
        guard case let TrainingError.batchDoesNotFitInMemory(batch, needed, _, _, available, source, largest)? = error as? TrainingError else {
            return XCTFail("expected a refusal, got \(String(describing: error))")
        }
        XCTAssertEqual(batch, 8)
        XCTAssertEqual(largest, 5)
        XCTAssertEqual(available, (sizes[3] + sizes[4]) / 2)
        XCTAssertEqual(source, "a test budget")
        XCTAssertGreaterThanOrEqual(needed, sizes[6], "the run's own estimate (its process may add the resident bytes' growth)")
        let m = error!.localizedDescription
        XCTAssertTrue(m.contains("--batch-size 8 does not fit in memory") && m.contains("--batch-size 5") && m.contains("kept activations")
                      && m.contains("a test budget"), m)
        // Not even two images: said so.
        XCTAssertTrue(run(budget: 1 << 20)?.localizedDescription.contains("Not even --batch-size 2") ?? false)
        // Enough memory: the run trains.
        XCTAssertNil(run(budget: sizes[6] + (64 << 20)))
    }

    func testTheEstimateCountsEveryPart() throws {
        var c = MidEpochCheckpointTests.config(epochs: 1, checkpointSteps: 0)
        c.runtime.prefetch = 3
        let model = SimCLRModel(encoder: c.encoderConfig, head: c.headConfig, seed: 0)
        let e = try MemoryEstimate.training(config: c, model: model, monitor: (bank: 32, queries: 10, classes: 10), process: 100)
        let rows = 2 * 8, s = c.augmentation.size
        XCTAssertEqual(e.process, 100)
        XCTAssertEqual(e.batches, 4 * rows * 3 * s * s * 4, "3 prefetched batches and the one in use")
        XCTAssertEqual(e.plan, try model.encoder.plannedMemory(batch: rows, height: s, width: s, training: true))
        let params = model.parameters.reduce(0) { $0 + $1.value.count }
        XCTAssertEqual(e.weights, model.parameterBytes + 2 * 4 * params, "SGD momentum, and its copy while a checkpoint is written")
        XCTAssertEqual(e.loss, 4 * (rows * rows + 3 * rows * 16 + 2 * rows) + 8 * rows)
        XCTAssertGreaterThan(e.monitor, 0)
        XCTAssertEqual(e.total, 100 + e.weights + e.plan.total + e.head + e.loss + e.batches + e.monitor + MemoryEstimate.runtimeAllowance)
        XCTAssertEqual(e.added, e.total - 100)
    }
}
