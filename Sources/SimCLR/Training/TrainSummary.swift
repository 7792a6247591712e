// The end-of-run report of `Trainer.run()`, also written as the run folder's summary.json.
import Foundation

/// The end-of-run report (also written as summary.json).
public struct TrainSummary: Codable, Sendable {
    public var epochs: Int
    public var stepsPerEpoch: Int
    public var steps: Int
    /// The step training (re)started from (0 for a fresh run).
    public var startStep: Int
    public var resumedFrom: String?
    /// Average loss / contrastive top-1 of the last epoch trained by this process.
    public var finalLoss: Double?
    public var finalTop1: Double?
    /// Training seconds in this process (kNN and checkpoints included).
    public var seconds: Double
    /// Source images per second over this process's steps.
    public var imagesPerSecond: Double
    /// Share of step time spent waiting for the loader.
    public var dataWaitShare: Double
    public var knnTop1: Double?
    public var knnTop5: Double?
    public var lastCheckpoint: String?
    /// False when the run stopped before its last step (a stop signal, a failed checkpoint
    /// write, the `stopAfterStep` test hook).
    public var completed: Bool
    /// Why the run stopped early: "SIGINT", "SIGTERM", "checkpoint write failed"; nil otherwise.
    public var stoppedBy: String? = nil

    /// The signal that stopped the run, if one did.
    public var stopSignal: StopSignal? { StopSignal.allCases.first { $0.name == stoppedBy } }

    /// The JSON of summary.json (snake_case keys, sorted, indented).
    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(self)
    }
}
