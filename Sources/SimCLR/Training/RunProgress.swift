// What a checkpoint records about the run besides weights, statistics and optimizer state: the
// steps per epoch it was written with, and the sums of the two open metrics windows (since the
// last metrics line, since the start of the epoch). With them a run resumed at any step, also in
// the middle of an epoch, writes the same metrics lines (loss and accuracies) as an
// uninterrupted run, and a changed dataset size or batch size is recognised.
//
// Stored as the checkpoint's `progress` metadata string, a flat JSON object written and parsed
// with the metrics log's correctly rounded number format, so every sum reads back bit for bit.
import Foundation

/// The training progress a checkpoint carries beyond the tensors.
public struct RunProgress: Equatable, Sendable {
    /// Sums over one metrics window.
    public struct WindowSums: Equatable, Sendable {
        public var loss = 0.0, top1 = 0.0, top5 = 0.0
        public var steps = 0, images = 0
        public init() {}
    }

    /// Steps per epoch of the run that wrote the checkpoint.
    public var stepsPerEpoch: Int
    /// The window of the next metrics line.
    public var logWindow = WindowSums()
    /// The window of the current epoch's record.
    public var epochWindow = WindowSums()

    public init(stepsPerEpoch: Int) { self.stepsPerEpoch = stepsPerEpoch }

    /// The checkpoint metadata key.
    static let metadataKey = "progress"

    private static var windows: [(prefix: String, path: WritableKeyPath<RunProgress, WindowSums>)] {
        [("log", \.logWindow), ("epoch", \.epochWindow)]
    }

    /// One flat JSON object: steps_per_epoch and <window>_<field> for both windows.
    var json: String {
        var fields = ["\"steps_per_epoch\": \(stepsPerEpoch)"]
        for (prefix, path) in Self.windows {
            let w = self[keyPath: path]
            fields += ["\"\(prefix)_loss\": \(w.loss)", "\"\(prefix)_top1\": \(w.top1)", "\"\(prefix)_top5\": \(w.top5)",
                       "\"\(prefix)_steps\": \(w.steps)", "\"\(prefix)_images\": \(w.images)"]
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// Parses `json`; nil when it is not such an object (all fields are required).
    init?(json text: String) {
        guard let object = try? FlatJSON.parse(text[...]) else { return nil }
        func number(_ key: String) -> Double? {
            if case let .number(v)? = object[key], v.isFinite { return v }
            return nil
        }
        func count(_ key: String) -> Int? {
            guard let v = number(key), v >= 0, v <= Double(Int32.max), v == v.rounded() else { return nil }
            return Int(v)
        }
        guard let spe = count("steps_per_epoch"), spe >= 1 else { return nil }
        self.init(stepsPerEpoch: spe)
        for (prefix, path) in Self.windows {
            guard let loss = number(prefix + "_loss"), let top1 = number(prefix + "_top1"), let top5 = number(prefix + "_top5"),
                  let steps = count(prefix + "_steps"), let images = count(prefix + "_images")
            else { return nil }
            self[keyPath: path] = WindowSums(loss: loss, top1: top1, top5: top5, steps: steps, images: images)
        }
    }
}

extension RunProgress.WindowSums {
    init(loss: Double, top1: Double, top5: Double, steps: Int, images: Int) {
        (self.loss, self.top1, self.top5, self.steps, self.images) = (loss, top1, top5, steps, images)
    }
}

extension MetricsWindow {
    /// The window's sums (timing excluded: a resumed window restarts its clock).
    var sums: RunProgress.WindowSums {
        get { RunProgress.WindowSums(loss: loss, top1: top1, top5: top5, steps: steps, images: images) }
        set { (loss, top1, top5, steps, images) = (newValue.loss, newValue.top1, newValue.top5, newValue.steps, newValue.images) }
    }
}
