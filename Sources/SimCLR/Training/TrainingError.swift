// Why a training run stopped, other than bad settings.
import Foundation

/// Training stopped for a reason other than bad settings.
public enum TrainingError: LocalizedError, Equatable {
    case nonFiniteLoss(step: Int, epoch: Int, value: Float, lastCheckpoint: String?)
    /// A weight, BN statistic or optimizer buffer is not finite when a checkpoint is due (none is written).
    case nonFiniteState(tensor: String, value: Float, step: Int, epoch: Int, lastCheckpoint: String?)
    case checkpointDoesNotFit(path: String, step: Int, stepsPerEpoch: Int)
    case datasetTooSmall(name: String, count: Int, batchSize: Int)
    case runFolderBusy(path: String, pid: Int32?)
    case batchDoesNotFitInMemory(batchSize: Int, needed: Int, total: Int, breakdown: String, available: Int, source: String,
                                 largestBatch: Int?)

    public var errorDescription: String? {
        switch self {
        case let .nonFiniteLoss(step, epoch, value, checkpoint):
            return "training stopped: the NT-Xent loss is \(value) at step \(step) (epoch \(epoch)); the weights diverged "
                + "(try a lower --lr, a higher --temperature or warmup). "
                + (checkpoint.map { "The last good checkpoint is kept: \($0)" } ?? "No checkpoint had been written yet.")
        case let .nonFiniteState(tensor, value, step, epoch, checkpoint):
            return "training stopped: \(tensor) holds \(value) after step \(step) (epoch \(epoch)), so no checkpoint was "
                + "written; the weights diverged (try a lower --lr, a higher --temperature or warmup). "
                + (checkpoint.map { "The last good checkpoint is kept: \($0)" } ?? "No checkpoint had been written yet.")
        case let .checkpointDoesNotFit(path, step, spe):
            return "checkpoint \(path) (step \(step)) was written by a run with another number of steps per epoch than "
                + "this run's \(spe): the dataset size or --batch-size changed since it was written"
        case let .datasetTooSmall(name, count, batchSize):
            return "--batch-size \(batchSize) is not allowed: expected at most the \(count) images of \(name)"
        case let .runFolderBusy(path, pid):
            return "--out \(path): another simclr train " + (pid.map { "(pid \($0)) " } ?? "")
                + "is training into this folder; wait for it to finish, stop it" + (pid.map { " (kill -INT \($0))" } ?? "")
                + ", or use another --out folder"
        case let .batchDoesNotFitInMemory(batchSize, needed, total, breakdown, available, source, largest):
            return "--batch-size \(batchSize) does not fit in memory: training would need about \(ByteCount(needed)) more "
                + "(a peak of \(ByteCount(total)): \(breakdown)), but only \(ByteCount(available)) are available (\(source)). "
                + (largest.map { "The largest batch that fits is about \($0): use --batch-size \($0) or less, or a smaller --image-size or --width" }
                    ?? "Not even --batch-size 2 fits: use a smaller --image-size or --width, or free memory")
        }
    }
}
