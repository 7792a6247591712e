// Checkpoints at any step: every `checkpoint_steps` steps as well as at the end of the epochs
// `checkpoint_interval` names, each carrying the run's progress (steps per epoch, open metrics
// windows), so a run resumed from one, in the middle of an epoch too, continues with the same
// bits and writes the same metrics lines as an uninterrupted run. A checkpoint that cannot be
// written stops the run cleanly: the previous checkpoint stays the last one, the logs are closed
// and summary.json says why.
import Foundation

extension TrainingRun {
    /// Refuses a checkpoint written with another number of steps per epoch (its recorded value,
    /// or for older checkpoints, written only at epoch ends, its step not being an epoch end).
    static func checkFits(_ r: CheckpointInfo, stepsPerEpoch spe: Int) throws {
        let fits = r.progress.map { $0.stepsPerEpoch == spe && r.epoch == r.step / spe } ?? (r.step == r.epoch * spe)
        guard fits else { throw TrainingError.checkpointDoesNotFit(path: r.url.path, step: r.step, stepsPerEpoch: spe) }
    }

    /// Restores the metrics windows a checkpoint recorded.
    func restoreProgress(_ resume: CheckpointInfo?) {
        guard let p = resume?.progress else { return }
        window.sums = p.logWindow
        epochWindow.sums = p.epochWindow
    }

    /// What the next checkpoint records besides the tensors. At an epoch's end the epoch's
    /// record is written, so the epoch window a resumed run continues is the next one, empty.
    var progress: RunProgress {
        var p = RunProgress(stepsPerEpoch: stepsPerEpoch)
        p.logWindow = window.sums
        if step % stepsPerEpoch != 0 { p.epochWindow = epochWindow.sums }
        return p
    }

    /// A checkpoint when `checkpoint_steps` says one is due at this step and none was written at it.
    func checkpointIfDue() throws {
        let k = config.runtime.checkpointSteps
        guard k > 0, step % k == 0, checkpointStep != step else { return }
        try checkpoint()
    }

    /// Saves the checkpoint of this step and rotates; on failure the run stops cleanly and the
    /// error names the file, the space it needs and the previous checkpoint.
    func saveCheckpoint() throws -> URL {
        do {
            let url = try Checkpoint.saveAndRotate(
                model: model, optimizer: optimizer, config: config, epoch: step / stepsPerEpoch, step: step,
                progress: progress, in: folder.checkpoints, keep: config.runtime.keepCheckpoints)
            checkpointStep = step
            return url
        } catch let error as CheckpointError {
            summary.stoppedBy = "checkpoint write failed"
            _ = try? finish()  // best effort: the disk may be full
            throw error
        }
    }
}
