// The fault points of a training run (besides AtomicFile's `atomic-write` and `atomic-rename`):
// the instants where tests and scripts/chaos.sh kill a run to prove that it resumes to the same
// bits and that every file it leaves loads. See TensorCore's FaultInjection for how to arm one.
import Foundation

extension FaultPoint {
    /// A checkpoint file is complete; `last` does not name it yet.
    public static let checkpointPointer = FaultPoint("checkpoint-pointer")
    /// `last` names the new checkpoint; older ones are not pruned yet.
    public static let checkpointPrune = FaultPoint("checkpoint-prune")
    /// A metrics.jsonl line is being written (a kill leaves half of it, a torn line).
    public static let metricsLine = FaultPoint("metrics-line")
    /// Buffered TensorBoard events are being written (a kill leaves half of them, a torn record).
    public static let eventsFlush = FaultPoint("events-flush")
    /// A batch of the kNN monitor's feature extraction.
    public static let knnBatch = FaultPoint("knn-batch")
    /// The end of a training step (its logs and checkpoint written), once per step of this process.
    public static let trainStep = FaultPoint("train-step")

    /// Every point, for scripts/chaos.sh and its test.
    public static let trainingPoints: [FaultPoint] = [
        .atomicWrite, .atomicRename, .checkpointPointer, .checkpointPrune, .metricsLine, .eventsFlush, .knnBatch, .trainStep,
    ]
}
