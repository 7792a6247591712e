// AugmentBenchmark: views per second of the augmentation pipeline, measured like the PyTorch
// reference ../shared/bench/torch_simclr_aug.py: for each batch of source images, read each image
// from the dataset, render 2 (config.views) views per image and write them into one Float32 batch
// tensor [V * B, 3, S, S]; a warm-up pass, then the median (min, max) over `repeats` passes.
// With threads > 1 the images of each batch are split between threads, each with its own renderer.
import Data
import Dispatch
import Foundation
import TensorCore

/// The result of `AugmentBenchmark.run` (JSON keys as the PyTorch script's output).
struct AugmentBenchmarkResult: Codable, Sendable, Equatable {
    var size: Int
    var threads: Int
    var imagesPerPass: Int
    var repeats: Int
    var views: Int
    /// Median over the timed passes of views rendered per second.
    var viewsPerSecond: Double
    var viewsPerSecondMin: Double
    var viewsPerSecondMax: Double
    /// Microseconds per view at the median rate.
    var microsecondsPerView: Double

    enum CodingKeys: String, CodingKey {
        case size, threads, repeats, views
        case imagesPerPass = "images_per_pass"
        case viewsPerSecond = "views_per_s"
        case viewsPerSecondMin = "views_per_s_min"
        case viewsPerSecondMax = "views_per_s_max"
        case microsecondsPerView = "us_per_view"
    }
}

enum AugmentBenchmark {
    /// Times the training view pipeline on `images` source images per pass (dataset images reused
    /// cyclically), `repeats` passes, batches of `batchSize` images. `config` defaults to the CIFAR
    /// recipe at `size` (the PyTorch script's transform: crop, flip, jitter s 0.5 with p 0.8,
    /// grayscale 0.2, no blur), normalised to Float32.
    static func run(dataset: any ImageDataset, size: Int, threads: Int, images: Int, repeats: Int,
                    config: AugmentationConfig? = nil, batchSize: Int = 256,
                    seed: UInt64 = 0) throws -> AugmentBenchmarkResult {
        guard dataset.count >= 1 else {
            throw DataLoaderError.invalidOption(name: "dataset", value: dataset.name, expected: "at least 1 image")
        }
        guard threads >= 1, images >= 1, repeats >= 1, batchSize >= 1 else {
            throw DataLoaderError.invalidOption(
                name: "threads/images/repeats", value: "\(threads)/\(images)/\(repeats)", expected: "positive counts")
        }
        var c = config ?? .cifar(size: size)
        c.size = size
        let pipeline = try AugmentationPipeline(c)
        let renderers = RendererPool((0..<threads).map { _ in ViewRenderer(pipeline: pipeline) })
        let v = c.views
        let plane = 3 * size * size

        func pass(_ n: Int, _ passIndex: Int) throws {
            var start = 0
            while start < n {
                let b = min(batchSize, n - start)
                let batch = Tensor(shape: [v * b, 3, size, size])
                let errors = ErrorBox()
                let per = (b + threads - 1) / threads
                let first = start
                let work: @Sendable (Int) -> Void = { t in
                    let renderer = renderers.renderers[t]
                    for i in (t * per)..<min(b, (t + 1) * per) {
                        let index = (first + i) % dataset.count
                        do {
                            let image = try dataset.image(at: index)
                            var rng = AugmentationPipeline.randomState(seed: seed, epoch: passIndex, index: first + i)
                            for k in 0..<v {
                                let p = pipeline.sampleView(width: image.width, height: image.height, rng: &rng)
                                renderer.render(image, p, into: batch.data + (k * b + i) * plane)
                            }
                        } catch {
                            errors.set(error)
                            return
                        }
                    }
                }
                if threads == 1 {
                    work(0)
                } else {
                    DispatchQueue.concurrentPerform(iterations: threads, execute: work)
                }
                if let e = errors.error { throw e }
                start += b
            }
        }

        try pass(min(images, batchSize), repeats)  // warm-up (its own seeds)
        var rates: [Double] = []
        for r in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try pass(images, r)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            rates.append(Double(v * images) / seconds)
        }
        let sorted = rates.sorted()
        let median = sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return AugmentBenchmarkResult(size: size, threads: threads, imagesPerPass: images, repeats: repeats, views: v,
                                      viewsPerSecond: median, viewsPerSecondMin: sorted.first!,
                                      viewsPerSecondMax: sorted.last!, microsecondsPerView: 1e6 / median)
    }
}

/// One renderer per benchmark thread; thread t only touches renderers[t].
private final class RendererPool: @unchecked Sendable {
    let renderers: [ViewRenderer]
    init(_ renderers: [ViewRenderer]) { self.renderers = renderers }
}

/// The first error thrown by any benchmark thread.
private final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
    func set(_ e: Error) { lock.lock(); if stored == nil { stored = e }; lock.unlock() }
}
