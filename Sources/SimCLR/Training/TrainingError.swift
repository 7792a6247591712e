// Why a training run stopped, other than bad settings.
import Foundation

/// Training stopped for a reason other than bad settings.
public enum TrainingError: LocalizedError, Equatable {
    case nonFiniteLoss(step: Int, epoch: Int, value: Float, lastCheckpoint: String?)
    case checkpointDoesNotFit(path: String, step: Int, stepsPerEpoch: Int)
    case datasetTooSmall(name: String, count: Int, batchSize: Int)

    public var errorDescription: String? {
        switch self {
        case let .nonFiniteLoss(step, epoch, value, checkpoint):
            return "training stopped: the NT-Xent loss is \(value) at step \(step) (epoch \(epoch)); the weights diverged "
                + "(try a lower --lr, a higher --temperature or warmup). "
                + (checkpoint.map { "The last good checkpoint is kept: \($0)" } ?? "No checkpoint had been written yet.")
        case let .checkpointDoesNotFit(path, step, spe):
            return "checkpoint \(path) is at step \(step), which is not an epoch boundary of this run's \(spe) steps per "
                + "epoch: the dataset size or --batch-size changed since it was written"
        case let .datasetTooSmall(name, count, batchSize):
            return "--batch-size \(batchSize) is not allowed: expected at most the \(count) images of \(name)"
        }
    }
}
