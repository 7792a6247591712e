// Before a run allocates its plan, arena and batches: the estimated peak (`MemoryEstimate`) is
// compared with the memory available now (`MemoryBudget`), and a batch that cannot fit is
// refused with the estimate, the available memory and the largest batch that fits, instead of
// the run being killed by the OOM killer minutes later.
import Foundation

extension TrainingRun {
    /// Images per forward pass of the run's evaluations (kNN monitor, neighbours): a batch of views, at most 512.
    static func knnBatchSize(_ c: TrainConfig) -> Int { min(512, c.optimization.batchSize * c.optimization.views) }

    /// The run's estimate (logged); throws `TrainingError.batchDoesNotFitInMemory` when its
    /// additions to the `process` bytes resident now exceed `budget` (nil: no check).
    @discardableResult
    static func checkMemory(config c: TrainConfig, model: SimCLRModel, data: TrainingData, process: Int,
                            budget: MemoryBudget?, log: (String) -> Void) throws -> MemoryEstimate {
        let monitor = data.monitor.map { (bank: $0.bank.count, queries: $0.queries.count, classes: max($0.bank.classNames.count, 1)) }
        let estimate = try MemoryEstimate.training(config: c, model: model, monitor: monitor, process: process)
        log("memory: about \(ByteCount(estimate.total)) at the peak (\(ByteCount(estimate.added)) more than now)"
            + (budget.map { "; \(ByteCount($0.availableBytes)) available" } ?? ""))
        guard let budget, estimate.added > budget.availableBytes else { return estimate }
        let largest = try largestBatch(config: c, model: model, monitor: monitor, process: process, budget: budget)
        throw TrainingError.batchDoesNotFitInMemory(
            batchSize: c.optimization.batchSize, needed: estimate.added, total: estimate.total, breakdown: estimate.breakdown,
            available: budget.availableBytes, source: budget.source, largestBatch: largest)
    }

    /// The largest batch (within 2%) whose estimate fits `budget`; nil when not even 2 images fit.
    static func largestBatch(config c: TrainConfig, model: SimCLRModel, monitor: (bank: Int, queries: Int, classes: Int)?,
                             process: Int, budget: MemoryBudget) throws -> Int? {
        func fits(_ b: Int) throws -> Bool {
            var candidate = c
            candidate.optimization.batchSize = b
            return try MemoryEstimate.training(config: candidate, model: model, monitor: monitor, process: process).added
                <= budget.availableBytes
        }
        guard try fits(2) else { return nil }
        var lo = 2, hi = c.optimization.batchSize  // fits(lo), not fits(hi)
        while hi - lo > max(1, lo / 50) {
            let mid = (lo + hi) / 2
            if try fits(mid) { lo = mid } else { hi = mid }
        }
        return lo
    }
}
