// What an evaluation was fitted on and what it scored: every report (eval linear / knn, the kNN
// monitor's log line, their JSON) states both datasets and their sizes, so that a number is never
// read without knowing whether it was measured on held-out images.
import Foundation

/// The images an evaluation was fitted on (probe training set, kNN bank) and the images it scored.
public struct EvaluationScope: Equatable, Sendable {
    /// Name of the fitted-on dataset, with its split ("cifar10/train1234").
    public var fitted: String
    public var fittedCount: Int
    /// Name of the scored dataset ("cifar10/val5").
    public var scored: String
    public var scoredCount: Int

    public init(fitted: String, fittedCount: Int, scored: String, scoredCount: Int) {
        self.fitted = fitted
        self.fittedCount = fittedCount
        self.scored = scored
        self.scoredCount = scoredCount
    }

    public init(fitted: any ImageDataset, scored: any ImageDataset) {
        self.init(fitted: fitted.name, fittedCount: fitted.count, scored: scored.name, scoredCount: scored.count)
    }

    public init(fitted: ExtractedFeatures, scored: ExtractedFeatures) {
        self.init(fitted: fitted.datasetName, fittedCount: fitted.labels.count, scored: scored.datasetName,
                  scoredCount: scored.labels.count)
    }

    /// "on cifar10/val5 (10000 images), fitted on cifar10/train1234 (40000 images)".
    public var description: String {
        "on \(scored) (\(scoredCount) images), fitted on \(fitted) (\(fittedCount) images)"
    }

    /// The JSON fields of a report: fitted_on, fitted_images, scored_on, scored_images.
    public var jsonFields: [String: Any] {
        ["fitted_on": fitted, "fitted_images": fittedCount, "scored_on": scored, "scored_images": scoredCount]
    }
}
