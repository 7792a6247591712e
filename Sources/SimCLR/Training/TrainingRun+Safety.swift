// The check before each checkpoint: a non-finite weight, BN statistic or optimizer buffer stops
// the run as a non-finite loss does, and the previous checkpoint stays the last one.
import Foundation

extension TrainingRun {
    /// Throws `TrainingError.nonFiniteState` naming the first non-finite tensor of the checkpoint to be.
    func requireFiniteState() throws {
        guard let bad = FiniteScan.firstNonFinite(FiniteScan.checkpointTensors(model: model, optimizer: optimizer)) else { return }
        throw TrainingError.nonFiniteState(tensor: bad.name, value: bad.value, step: step, epoch: epoch,
                                           lastCheckpoint: lastCheckpoint?.path)
    }
}
