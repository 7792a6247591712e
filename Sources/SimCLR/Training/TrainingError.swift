// Why a training run stopped, other than bad settings.
import Foundation

/// Training stopped for a reason other than bad settings.
public enum TrainingError: LocalizedError, Equatable {
    case nonFiniteLoss(step: Int, epoch: Int, value: Float, lastCheckpoint: String?)
    /// A weight, BN statistic or optimizer buffer is not finite when a checkpoint is due (none is written).
    case nonFiniteState(tensor: String, value: Float, step: Int, epoch: Int, lastCheckpoint: String?)
    case checkpointDoesNotFit(path: String, step: Int, stepsPerEpoch: Int)
    case datasetTooSmall(name: String, count: Int, batchSize: Int)

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
            return "checkpoint \(path) is at step \(step), which is not an epoch boundary of this run's \(spe) steps per "
                + "epoch: the dataset size or --batch-size changed since it was written"
        case let .datasetTooSmall(name, count, batchSize):
            return "--batch-size \(batchSize) is not allowed: expected at most the \(count) images of \(name)"
        }
    }
}
