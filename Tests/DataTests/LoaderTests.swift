// DataLoader: batch layout (row v * N + i = view v of image i), reproducibility across thread
// counts, per-epoch shuffling, evaluation order and partial batch, resuming, error surfacing,
// clean shutdown and the wait-time report.
import Foundation
import XCTest
@testable import Data
import TestSupport

/// A dataset that sleeps a little per read, so that the consumer has to wait.
private struct SlowDataset: ImageDataset {
    let base: AugTestDataset
    var name: String { "slow" }
    var count: Int { base.count }
    var classNames: [String] { base.classNames }
    func image(at index: Int) throws -> RGBImage {
        usleep(2000)
        return try base.image(at: index)
    }
    func label(at index: Int) -> Int? { base.label(at: index) }
}

final class LoaderTests: XCTestCase {
    private let dataset = AugTestDataset(count: 40, width: 36, height: 30, seed: 100)

    private func pipeline(views: Int = 2) throws -> AugmentationPipeline {
        var c = AugmentationConfig.cifar(views: views)
        c.blur = true  // exercise every op
        c.solarize = true
        return try AugmentationPipeline(c)
    }

    private func drain(_ loader: DataLoader, max: Int = 1000) throws -> [DataLoader.Batch] {
        var out: [DataLoader.Batch] = []
        while out.count < max, let b = try loader.next() { out.append(b) }
        return out
    }

    func testBatchRowsAreViewsOfImagesAndIndependentOfThreads() throws {
        let p = try pipeline(views: 3)
        let one = try DataLoader(dataset: dataset, pipeline: p,
                                 options: .init(batchSize: 8, seed: 42, threads: 1, prefetch: 1, epochs: 2, chunkSize: 8))
        let four = try DataLoader(dataset: dataset, pipeline: p,
                                  options: .init(batchSize: 8, seed: 42, threads: 4, prefetch: 3, epochs: 2, chunkSize: 3))
        let a = try drain(one), b = try drain(four)
        XCTAssertEqual(a.count, 10)  // 40 / 8 = 5 steps x 2 epochs
        XCTAssertEqual(a.map(\.epoch), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        XCTAssertEqual(a.map(\.step), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
        XCTAssertEqual(b.count, a.count)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.indices, y.indices)
            XCTAssertEqual(x.images.shape, [24, 3, 32, 32])
            XCTAssertEqual(x.images.array, y.images.array, "batch \(x.epoch)/\(x.step) differs between 1 and 4 threads")
        }
        // Row v * N + i is view v of image indices[i], rendered from RandomState(seed, epoch, index).
        let renderer = ViewRenderer(pipeline: p)
        let plane = 3 * 32 * 32
        for batch in [a[1], a[7]] {
            for (i, index) in batch.indices.enumerated() {
                let image = try dataset.image(at: index)
                let params = p.sampleViews(width: 36, height: 30, seed: 42, epoch: batch.epoch, index: index)
                XCTAssertEqual(params.count, 3)
                for v in 0..<3 {
                    let expected = Tensor(shape: [3, 32, 32])
                    renderer.render(image, params[v], into: expected.data)
                    let row = Array(batch.images.buffer[((v * 8 + i) * plane)..<((v * 8 + i + 1) * plane)])
                    XCTAssertEqual(row, expected.array, "epoch \(batch.epoch) image \(index) view \(v)")
                }
                XCTAssertEqual(batch.labels[i], index % 3)
            }
        }
        // Views of one image differ from each other, and between epochs.
        let first = a[0].images.array
        XCTAssertNotEqual(Array(first[0..<plane]), Array(first[(8 * plane)..<(9 * plane)]))
    }

    func testShuffleDependsOnlyOnSeedAndEpochAndDropsPartialBatch() throws {
        let order = DataLoader.shuffleOrder(count: 40, seed: 9, epoch: 3)
        XCTAssertEqual(order.sorted(), Array(0..<40))
        XCTAssertEqual(order, DataLoader.shuffleOrder(count: 40, seed: 9, epoch: 3))
        XCTAssertNotEqual(order, DataLoader.shuffleOrder(count: 40, seed: 9, epoch: 4))
        XCTAssertNotEqual(order, DataLoader.shuffleOrder(count: 40, seed: 10, epoch: 3))
        XCTAssertNotEqual(order, Array(0..<40))
        // 40 images, batch 16: 2 steps per epoch; the last 8 of the epoch's order are dropped.
        let loader = try DataLoader(dataset: dataset, pipeline: try pipeline(),
                                    options: .init(batchSize: 16, seed: 9, threads: 2, startEpoch: 3, epochs: 4))
        XCTAssertEqual(loader.stepsPerEpoch, 2)
        let batches = try drain(loader)
        XCTAssertEqual(batches.count, 2)
        XCTAssertEqual(batches.flatMap(\.indices), Array(order.prefix(32)))
        XCTAssertEqual(batches[0].images.shape, [32, 3, 32, 32])
    }

    func testEvaluationIsInOrderUnaugmentedAndKeepsLastPartialBatch() throws {
        let data = AugTestDataset(count: 21, width: 40, height: 34, seed: 5)
        let p = try pipeline()
        let loader = try DataLoader(dataset: data, pipeline: p,
                                    options: .init(batchSize: 8, mode: .evaluation, seed: 1, threads: 3, chunkSize: 2))
        let batches = try drain(loader)
        XCTAssertEqual(batches.map(\.count), [8, 8, 5])
        XCTAssertEqual(batches.flatMap(\.indices), Array(0..<21))
        XCTAssertEqual(batches[2].images.shape, [5, 3, 32, 32])
        XCTAssertEqual(batches.map(\.views), [1, 1, 1])
        XCTAssertNil(try loader.next())
        let renderer = ViewRenderer(pipeline: p)
        let expected = Tensor(shape: [3, 32, 32])
        renderer.renderEvaluation(try data.image(at: 20), into: expected.data)
        XCTAssertEqual(Array(batches[2].images.buffer[(4 * 3072)..<(5 * 3072)]), expected.array)
    }

    func testResumingAtEpochAndStepReproducesTheRun() throws {
        let p = try pipeline()
        let full = try drain(DataLoader(dataset: dataset, pipeline: p,
                                        options: .init(batchSize: 8, seed: 3, threads: 2, epochs: 3)))
        let resumed = try drain(DataLoader(dataset: dataset, pipeline: p,
                                           options: .init(batchSize: 8, seed: 3, threads: 3, startEpoch: 1,
                                                          startStep: 2, epochs: 3)))
        XCTAssertEqual(full.count, 15)
        XCTAssertEqual(resumed.count, 8)  // epoch 1 steps 2...4, epoch 2 steps 0...4
        for (x, y) in zip(full.suffix(8), resumed) {
            XCTAssertEqual([x.epoch, x.step], [y.epoch, y.step])
            XCTAssertEqual(x.indices, y.indices)
            XCTAssertEqual(x.images.array, y.images.array)
        }
        XCTAssertThrowsError(try DataLoader(dataset: dataset, pipeline: p,
                                            options: .init(batchSize: 8, startStep: 5))) { error in
            XCTAssertTrue(error.localizedDescription.contains("startStep"), error.localizedDescription)
        }
    }

    func testReadErrorIsThrownToTheConsumer() throws {
        let data = AugTestDataset(count: 24, seed: 8, failing: [13])
        let loader = try DataLoader(dataset: data, pipeline: try pipeline(),
                                    options: .init(batchSize: 8, mode: .evaluation, threads: 2, prefetch: 3))
        XCTAssertEqual(try loader.next()?.indices, Array(0..<8))
        XCTAssertThrowsError(try loader.next()) { error in
            XCTAssertEqual(error.localizedDescription, "test dataset: cannot read image 13")
        }
        XCTAssertThrowsError(try loader.next())  // sticky
        loader.stop()
        XCTAssertEqual(loader.runningWorkers, 0)
    }

    func testStopAndDeinitEndAllWorkerThreads() throws {
        func threadCount() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
        }
        let before = threadCount()
        let loader = try DataLoader(dataset: dataset, pipeline: try pipeline(),
                                    options: .init(batchSize: 4, seed: 1, threads: 4, prefetch: 4))
        XCTAssertEqual(loader.runningWorkers, 4)
        XCTAssertNotNil(try loader.next())
        loader.stop()
        XCTAssertEqual(loader.runningWorkers, 0)
        XCTAssertNil(try loader.next())
        // Dropping a running loader (never stopped, endless epochs) must not hang nor leak threads.
        do {
            let other = try DataLoader(dataset: dataset, pipeline: try pipeline(),
                                       options: .init(batchSize: 4, seed: 1, threads: 4, prefetch: 2))
            XCTAssertNotNil(try other.next())
        }
        // The OS removes an exited thread shortly after it returns: poll briefly.
        var after = threadCount()
        for _ in 0..<200 where after > before {
            usleep(10_000)
            after = threadCount()
        }
        XCTAssertLessThanOrEqual(after, before)
    }

    func testWaitTimeIsMeasured() throws {
        let slow = SlowDataset(base: AugTestDataset(count: 16, seed: 2))
        let loader = try DataLoader(dataset: slow, pipeline: try pipeline(),
                                    options: .init(batchSize: 8, mode: .evaluation, threads: 1, prefetch: 1))
        XCTAssertEqual(loader.waitSeconds, 0)
        _ = try loader.next()  // 8 reads of 2 ms each cannot be ready yet
        XCTAssertGreaterThan(loader.lastWaitSeconds, 0)
        XCTAssertEqual(loader.waitSeconds, loader.lastWaitSeconds)
        _ = try loader.next()
        XCTAssertGreaterThanOrEqual(loader.waitSeconds, loader.lastWaitSeconds)
        XCTAssertEqual(loader.batchesDelivered, 2)
    }

    func testInvalidOptionsAreRefusedWithTheirName() throws {
        let p = try pipeline()
        for (options, name) in [(DataLoader.Options(batchSize: 41), "batchSize"),
                                (DataLoader.Options(batchSize: 4, threads: 0), "threads"),
                                (DataLoader.Options(batchSize: 4, prefetch: 0), "prefetch")] {
            XCTAssertThrowsError(try DataLoader(dataset: dataset, pipeline: p, options: options)) { error in
                XCTAssertTrue(error.localizedDescription.contains(name), error.localizedDescription)
            }
        }
    }
}
