// Sums over a window of training steps (a log interval or an epoch), turned into one
// metrics.jsonl record.
import Foundation

/// Loss, accuracies, images and loader waiting summed since `start`.
struct MetricsWindow {
    /// Clock time the window started.
    var start: Double
    /// The loader's total wait time when the window started.
    var waitAtStart: Double
    var loss = 0.0, top1 = 0.0, top5 = 0.0
    var steps = 0, images = 0

    init(start: Double, waitAtStart: Double) {
        self.start = start
        self.waitAtStart = waitAtStart
    }

    mutating func add(_ r: NTXentResult, images n: Int) {
        loss += Double(r.loss)
        top1 += Double(r.top1)
        top5 += Double(r.top5)
        steps += 1
        images += n
    }

    /// The window's averages as a record; `totalWait` is the loader's wait time so far.
    func record(kind: MetricsRecord.Kind, step: Int, epoch: Int, lr: Double, now: Double, elapsed: Double,
                totalWait: Double) -> MetricsRecord {
        let n = Double(max(steps, 1))
        let seconds = max(now - start, 1e-9)
        let wait = totalWait - waitAtStart
        return MetricsRecord(kind: kind, step: step, epoch: epoch, loss: loss / n, top1: top1 / n, top5: top5 / n, lr: lr,
                             imagesPerSecond: Double(images) / seconds, elapsed: elapsed, dataWaitSeconds: wait,
                             dataWaitShare: wait / seconds)
    }
}
