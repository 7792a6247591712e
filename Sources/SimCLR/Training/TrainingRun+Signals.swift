// Stopping a run on SIGINT / SIGTERM (see `StopSignals`): after the step in progress the run
// writes a checkpoint of that step (unless one was just written), closes its logs, writes
// curves.png and summary.json (completed: false, stopped_by: the signal) and returns; the command
// then exits with 130 / 143. A kNN monitor pass in progress is cut short (its epoch record has no
// kNN values) so that stopping never waits for a whole evaluation.
import Foundation

extension TrainingRun {
    /// The stop signal to act on after this step, if one came (never after the last step).
    func stopRequest() -> StopSignal? {
        FaultPoint.trainStep.pass()
        guard step < totalSteps else { return nil }
        return StopSignals.received
    }

    /// Checkpoint, curves and summary after a stop signal; the summary names the signal.
    func stop(by signal: StopSignal) throws -> TrainSummary {
        if checkpointStep != step { try checkpoint() }
        summary.stoppedBy = signal.name
        hooks.log("\(signal.name): stopped after step \(step) of \(totalSteps); checkpoint \(lastCheckpoint?.path ?? "-")")
        return try finish()
    }

    /// Whether the kNN monitor's extraction should give up (a stop signal came); one
    /// `knn-batch` fault-point pass per batch.
    func knnShouldStop() -> Bool {
        FaultPoint.knnBatch.pass()
        return StopSignals.received != nil
    }

    /// `body`'s result, or nil when it was cancelled by a stop signal (logged).
    func stoppable<T>(_ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch is CancellationError {
            hooks.log("kNN monitor of epoch \(epoch) skipped: stopping")
            return nil
        }
    }
}
