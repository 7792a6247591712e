// DataLoader: turns an ImageDataset into Float32 batches of augmented views, prepared on
// background threads while the consumer (the training step) runs.
//
// Layout: a training batch of N images and V views is one [V * N, 3, S, S] tensor in which row
// v * N + i is view v of image i (view 0 of all N images, then view 1, ...), the order NT-Xent
// expects. Evaluation batches are [n, 3, S, S] with one unaugmented view per image, in dataset
// order, the last partial batch kept.
//
// Reproducibility: the order of epoch e is a shuffle seeded by (seed, e); the views of image i in
// epoch e come from RandomState(seed, e, i) alone. Work is split into chunks of images claimed by
// any worker, so neither the thread count nor the timing changes a single value.
//
// Threads: `threads` workers render chunks of the next `prefetch` batches; `next()` blocks until
// its batch is complete and records how long it waited. A read error is handed to the consumer as
// the error thrown by `next()` for that batch (and every later call); `stop()` (or deinit) ends the
// workers and waits for them to exit.
import Dispatch
import Foundation

/// Errors of the loader's configuration.
public enum DataLoaderError: LocalizedError, Equatable {
    case invalidOption(name: String, value: String, expected: String)

    public var errorDescription: String? {
        switch self {
        case .invalidOption(let name, let value, let expected):
            return "data loader: \(name) = \(value); expected \(expected)"
        }
    }
}

public final class DataLoader: @unchecked Sendable {
    /// Training (shuffled, augmented, V views, last partial batch dropped, epoch after epoch) or
    /// evaluation (in order, Resize + CenterCrop + Normalize, one view, last partial batch kept, one pass).
    public enum Mode: String, Sendable, Codable {
        case training, evaluation
    }

    public struct Options: Sendable, Equatable {
        /// Images per batch (N).
        public var batchSize: Int
        public var mode: Mode
        /// Run seed: the only source of shuffling and augmentation randomness.
        public var seed: UInt64
        /// Worker threads rendering views (>= 1).
        public var threads: Int
        /// Batches prepared ahead of the one being consumed (>= 1).
        public var prefetch: Int
        /// First epoch to produce (training; for resuming).
        public var startEpoch: Int
        /// First step within `startEpoch` (training; for resuming).
        public var startStep: Int
        /// Training stops after epoch `epochs - 1`; nil: never (the consumer stops).
        public var epochs: Int?
        /// Images per unit of work claimed by a worker.
        public var chunkSize: Int

        public init(batchSize: Int, mode: Mode = .training, seed: UInt64 = 0, threads: Int = 1, prefetch: Int = 2,
                    startEpoch: Int = 0, startStep: Int = 0, epochs: Int? = nil, chunkSize: Int = 16) {
            self.batchSize = batchSize
            self.mode = mode
            self.seed = seed
            self.threads = threads
            self.prefetch = prefetch
            self.startEpoch = startEpoch
            self.startStep = startStep
            self.epochs = epochs
            self.chunkSize = chunkSize
        }
    }

    /// One batch of views.
    public struct Batch: @unchecked Sendable {
        /// Epoch of the batch (0 in evaluation).
        public let epoch: Int
        /// Step within the epoch (batch number in evaluation).
        public let step: Int
        /// [V * N, 3, S, S] views; row v * N + i is view v of image i.
        public let images: Tensor
        /// Dataset indices of the N images, in batch order.
        public let indices: [Int]
        /// Their labels (nil for unlabeled data).
        public let labels: [Int?]
        /// Views per image (V; 1 in evaluation).
        public let views: Int
        /// Images in the batch (N).
        public var count: Int { indices.count }
    }

    public let dataset: any ImageDataset
    public let pipeline: AugmentationPipeline
    public let options: Options
    /// Full batches per epoch (training) or batches in the pass, the last one possibly partial (evaluation).
    public let stepsPerEpoch: Int
    /// Views per image in the batches this loader produces.
    public var views: Int { options.mode == .training ? pipeline.config.views : 1 }

    private let state: LoaderState

    /// Starts the workers. Throws `DataLoaderError.invalidOption` for a bad option (naming it), or
    /// when the dataset is too small for one training batch.
    public init(dataset: any ImageDataset, pipeline: AugmentationPipeline, options: Options) throws {
        func bad(_ name: String, _ value: Any, _ expected: String) -> DataLoaderError {
            .invalidOption(name: name, value: "\(value)", expected: expected)
        }
        let o = options
        guard o.batchSize >= 1 else { throw bad("batchSize", o.batchSize, "at least 1 image per batch") }
        guard o.threads >= 1 else { throw bad("threads", o.threads, "at least 1 worker thread") }
        guard o.prefetch >= 1 else { throw bad("prefetch", o.prefetch, "at least 1 batch prepared ahead") }
        guard o.chunkSize >= 1 else { throw bad("chunkSize", o.chunkSize, "at least 1 image per work unit") }
        let steps: Int
        switch o.mode {
        case .training:
            steps = dataset.count / o.batchSize
            guard steps >= 1 else {
                throw bad("batchSize", o.batchSize,
                          "at most the \(dataset.count) images of dataset \(dataset.name) (training drops partial batches)")
            }
            guard o.startEpoch >= 0 else { throw bad("startEpoch", o.startEpoch, "an epoch >= 0") }
            guard (0..<steps).contains(o.startStep) else {
                throw bad("startStep", o.startStep, "a step in 0 ..< \(steps) (steps per epoch)")
            }
            if let e = o.epochs, e < 0 { throw bad("epochs", e, "a count >= 0") }
        case .evaluation:
            steps = (dataset.count + o.batchSize - 1) / o.batchSize
        }
        self.dataset = dataset
        self.pipeline = pipeline
        self.options = o
        self.stepsPerEpoch = steps
        let first = o.mode == .training ? o.startEpoch * steps + o.startStep : 0
        let end: Int
        if o.mode == .training {
            end = o.epochs.map { $0 * steps } ?? Int.max
        } else {
            end = steps
        }
        state = LoaderState(dataset: dataset, pipeline: pipeline, options: o, stepsPerEpoch: steps,
                            first: first, end: max(first, end))
        state.start()
    }

    deinit { state.stop() }

    /// The next batch, waiting for the workers if needed; nil at the end (evaluation pass done,
    /// `epochs` reached, or stopped). Rethrows a dataset read error of this batch, and keeps
    /// throwing it afterwards.
    public func next() throws -> Batch? {
        try state.next()
    }

    /// Stops the workers and waits until they have exited. Later `next()` calls return nil.
    public func stop() { state.stop() }

    /// Total seconds `next()` spent waiting for batches (for the data-wait share of step time).
    public var waitSeconds: Double { state.withLock { state.waitSeconds } }
    /// Seconds the last `next()` call waited.
    public var lastWaitSeconds: Double { state.withLock { state.lastWaitSeconds } }
    /// Batches handed out so far.
    public var batchesDelivered: Int { state.withLock { state.delivered } }
    /// Worker threads currently running (0 after `stop()` returns).
    public var runningWorkers: Int { state.withLock { state.running } }

    /// The order in which training visits the images in `epoch`: a permutation of 0 ..< count that
    /// depends only on (seed, epoch) (Fisher-Yates from RandomState(seed ^ salt, epoch)).
    public static func shuffleOrder(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = RandomState(seed: seed ^ 0x5348_5546_464C_4553, UInt64(epoch))
        var order = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                order.swapAt(i, j)
            }
        }
        return order
    }
}

/// The state shared by the consumer and the workers, guarded by one condition lock.
private final class LoaderState: @unchecked Sendable {
    final class Slot {
        let images: Tensor
        let indices: [Int]
        let labels: [Int?]
        var remaining: Int
        var error: Error?
        init(images: Tensor, indices: [Int], labels: [Int?], remaining: Int) {
            self.images = images
            self.indices = indices
            self.labels = labels
            self.remaining = remaining
        }
    }

    let dataset: any ImageDataset
    let pipeline: AugmentationPipeline
    let options: DataLoader.Options
    let stepsPerEpoch: Int
    let end: Int
    let views: Int
    let condition = NSCondition()

    // Guarded by `condition`.
    var consumed: Int
    var nextBatch: Int
    var nextChunk = 0
    var slots: [Int: Slot] = [:]
    var orders: [Int: [Int]] = [:]
    var stopped = false
    var failure: Error?
    var running = 0
    var waitSeconds = 0.0
    var lastWaitSeconds = 0.0
    var delivered = 0

    init(dataset: any ImageDataset, pipeline: AugmentationPipeline, options: DataLoader.Options,
         stepsPerEpoch: Int, first: Int, end: Int) {
        self.dataset = dataset
        self.pipeline = pipeline
        self.options = options
        self.stepsPerEpoch = stepsPerEpoch
        self.end = end
        self.views = options.mode == .training ? pipeline.config.views : 1
        consumed = first
        nextBatch = first
    }

    func withLock<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    func start() {
        condition.lock()
        running = options.threads
        condition.unlock()
        for k in 0..<options.threads {
            let thread = Thread { [self] in self.work() }
            thread.name = "simclr-loader-\(k)"
            thread.start()
        }
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    /// Images of batch `g`: a slice of the epoch's shuffled order (training) or of 0 ..< count.
    /// Called with the lock held.
    private func indices(ofBatch g: Int) -> [Int] {
        let n = options.batchSize
        if options.mode == .evaluation {
            return Array((g * n)..<min((g + 1) * n, dataset.count))
        }
        let epoch = g / stepsPerEpoch, step = g % stepsPerEpoch
        if orders[epoch] == nil {
            orders[epoch] = DataLoader.shuffleOrder(count: dataset.count, seed: options.seed, epoch: epoch)
            orders = orders.filter { $0.key >= epoch - 1 }
        }
        return Array(orders[epoch]![(step * n)..<((step + 1) * n)])
    }

    /// Worker loop: claim the next chunk of a batch within the prefetch window, render it, repeat.
    private func work() {
        let renderer = ViewRenderer(pipeline: pipeline)
        condition.lock()
        while true {
            if stopped || failure != nil { break }
            guard nextBatch < end && nextBatch < consumed + options.prefetch else {
                condition.wait()
                continue
            }
            let g = nextBatch, c = nextChunk
            if c == 0 {
                let idx = indices(ofBatch: g)
                let s = pipeline.config.size
                let units = (idx.count + options.chunkSize - 1) / options.chunkSize
                slots[g] = Slot(images: Tensor(shape: [views * idx.count, 3, s, s]), indices: idx,
                                labels: idx.map { dataset.label(at: $0) }, remaining: units)
            }
            let slot = slots[g]!
            let lo = c * options.chunkSize, hi = min(lo + options.chunkSize, slot.indices.count)
            if hi >= slot.indices.count {
                nextBatch += 1
                nextChunk = 0
            } else {
                nextChunk += 1
            }
            condition.unlock()
            var error: Error?
            do {
                try render(slot: slot, batch: g, range: lo..<hi, renderer: renderer)
            } catch let e {
                error = e
            }
            condition.lock()
            if let error, slot.error == nil { slot.error = error }
            slot.remaining -= 1
            if slot.remaining == 0 { condition.broadcast() }
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Renders images `range` of a batch into its tensor (no lock: chunks write disjoint rows).
    private func render(slot: Slot, batch g: Int, range: Range<Int>, renderer: ViewRenderer) throws {
        let n = slot.indices.count
        let s = pipeline.config.size
        let plane = 3 * s * s
        let epoch = options.mode == .training ? g / stepsPerEpoch : 0
        for i in range {
            let index = slot.indices[i]
            let image = try dataset.image(at: index)
            guard image.width >= 1, image.height >= 1 else {
                throw AugmentationError.emptyImage(index: index, width: image.width, height: image.height)
            }
            if options.mode == .evaluation {
                renderer.renderEvaluation(image, into: slot.images.data + i * plane)
            } else {
                var rng = AugmentationPipeline.randomState(seed: options.seed, epoch: epoch, index: index)
                for v in 0..<views {
                    let p = pipeline.sampleView(width: image.width, height: image.height, rng: &rng)
                    renderer.render(image, p, into: slot.images.data + (v * n + i) * plane)
                }
            }
        }
    }

    func next() throws -> DataLoader.Batch? {
        let t0 = DispatchTime.now().uptimeNanoseconds
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        if consumed >= end || stopped { return nil }
        while slots[consumed] == nil || slots[consumed]!.remaining > 0 {
            if stopped { return nil }
            condition.wait()
        }
        let g = consumed
        let slot = slots.removeValue(forKey: g)!
        consumed += 1
        condition.broadcast()
        let waited = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        lastWaitSeconds = waited
        waitSeconds += waited
        if let error = slot.error {
            failure = error
            throw error
        }
        delivered += 1
        let training = options.mode == .training
        return DataLoader.Batch(epoch: training ? g / stepsPerEpoch : 0, step: training ? g % stepsPerEpoch : g,
                                images: slot.images, indices: slot.indices, labels: slot.labels, views: views)
    }
}
