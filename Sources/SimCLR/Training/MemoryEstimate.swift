// The peak memory of a training run, estimated before the large allocations are made, as the
// sum of what is alive at once during a step:
//
//     peak = process  (resident before the model: libraries, the dataset's bytes in memory)
//          + weights  (parameters, gradients, running statistics, optimizer state, and the copy
//                      of the optimizer state a checkpoint write makes)
//          + plan     (the encoder pass: kept activations + pool arena + plain input / output,
//                      from a measuring plan that allocates nothing)
//          + head     (the projection head's per-batch buffers) + loss (NT-Xent's buffers, M^2 + 2MD
//                      floats for M = V N rows of dimension D, and dL/dz)
//          + batches  (the loader's prefetched batches plus the one in use, V N x 3 x S x S floats;
//                      for `simclr bench step`, its one input tensor)
//          + monitor  (the kNN monitor: its inference passes, features and similarity block)
//          + runtime  (an allowance for oneDNN's generated kernels, BLAS buffers and thread stacks)
//
// `simclr bench step` prints this estimate beside the measured peak RSS, and a test checks that
// they agree within 15% at two batch sizes.
import Foundation

/// An estimate of a run's peak resident memory, by part (bytes).
public struct MemoryEstimate: Equatable, Sendable {
    public var process = 0
    public var weights = 0
    public var plan = PlannedMemory(kept: 0, pool: 0, host: 0)
    public var head = 0
    public var loss = 0
    public var batches = 0
    public var monitor = 0
    public var runtime = MemoryEstimate.runtimeAllowance

    /// oneDNN's generated kernels, OpenBLAS buffers, thread stacks and allocator slack: about
    /// 13-19 MiB measured over widths 0.25-0.5 and batches 16-128 of ResNet-18.
    public static let runtimeAllowance = 16 << 20

    public init() {}

    /// The estimated peak.
    public var total: Int { process + weights + plan.total + head + loss + batches + monitor + runtime }
    /// What the run adds to the process as it is now (the part that must fit in the available memory).
    public var added: Int { total - process }

    /// "plan 240.0 MiB (kept activations ..., arena ...), weights ..., ..." for messages.
    public var breakdown: String {
        var parts = [
            "kept activations \(ByteCount(plan.kept))", "arena \(ByteCount(plan.pool))", "input/output \(ByteCount(plan.host))",
            "weights and optimizer state \(ByteCount(weights))", "head and NT-Xent \(ByteCount(head + loss))",
            "batches \(ByteCount(batches))",
        ]
        if monitor > 0 { parts.append("kNN monitor \(ByteCount(monitor))") }
        parts.append("runtime \(ByteCount(runtime))")
        return parts.joined(separator: ", ")
    }

    /// The training step's parts for a model, batch and view size (`process` and `batches` left
    /// to the caller). `optimizerBuffers` state tensors per parameter; `checkpointing` adds the
    /// copy of that state a checkpoint write makes.
    public static func step(
        model: SimCLRModel, batch: Int, views: Int, imageSize: Int, optimizerBuffers: Int, checkpointing: Bool
    ) throws -> MemoryEstimate {
        var e = MemoryEstimate()
        let rows = views * batch
        let float = MemoryLayout<Float>.stride
        let parameterCount = model.parameters.reduce(0) { $0 + $1.value.count }
        e.weights = model.parameterBytes + parameterCount * float * optimizerBuffers * (checkpointing ? 2 : 1)
        e.plan = try model.encoder.plannedMemory(batch: rows, height: imageSize, width: imageSize, training: true)
        e.head = model.head.trainingBufferBytes(rows: rows)
        let d = model.head.config.outputDim
        e.loss = float * (rows * rows + 3 * rows * d + 2 * rows) + MemoryLayout<Double>.stride * rows
        return e
    }

    /// The whole run of `config` on `model`: the step, `prefetch + 1` loader batches, the kNN
    /// monitor when `monitor` is given, over the resident `process` bytes.
    public static func training(config c: TrainConfig, model: SimCLRModel, monitor: (bank: Int, queries: Int, classes: Int)?,
                                process: Int) throws -> MemoryEstimate {
        let o = c.optimization, size = c.augmentation.size
        var e = try step(model: model, batch: o.batchSize, views: o.views, imageSize: size,
                         optimizerBuffers: o.optimizer.stateBuffersPerParameter, checkpointing: true)
        e.process = process
        let float = MemoryLayout<Float>.stride
        e.batches = (c.runtime.prefetch + 1) * o.views * o.batchSize * 3 * size * size * float
        if let m = monitor { e.monitor = try monitorBytes(config: c, model: model, bank: m.bank, queries: m.queries, classes: m.classes) }
        return e
    }

    /// The kNN monitor: inference passes for its batch and the two last partial batches, the
    /// loader's batches, the features and their normalised copies, the similarity block, the scores.
    static func monitorBytes(config c: TrainConfig, model: SimCLRModel, bank: Int, queries: Int, classes: Int) throws -> Int {
        let size = c.augmentation.size, float = MemoryLayout<Float>.stride, d = model.encoder.featureDim
        let b = TrainingRun.knnBatchSize(c)
        var total = 0
        for n in Set([b, bank % b, queries % b]) where n > 0 {
            total += try model.encoder.plannedMemory(batch: n, height: size, width: size, training: false).total
        }
        total += 3 * b * 3 * size * size * float  // evaluation loader: 2 prefetched + 1 in use
        total += 2 * (bank + queries) * d * float + 256 * min(8192, bank) * float + queries * classes * MemoryLayout<Double>.stride
        return total
    }
}

extension OptimizerKind {
    /// State tensors per parameter (momentum; Adam's two moments).
    var stateBuffersPerParameter: Int {
        switch self {
        case .sgd, .lars: return 1
        case .adam, .adamw: return 2
        }
    }
}
