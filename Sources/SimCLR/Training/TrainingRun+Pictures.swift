// The pictures a run leaves beside its logs: curves.png (also when the run stops early, so that
// a diverged or interrupted run can be looked at) and neighbors.png (the nearest labelled
// training images of a few held-out images, when the run has labelled splits).
import Foundation

extension TrainingRun {
    /// Queries (rows) and neighbours (columns) of the end-of-run neighbour picture.
    static let neighborQueries = 8, neighborCount = 8

    /// Writes curves.png from the metrics logged so far, if any. For runs that stop before
    /// `finish()` (a non-finite loss or state, an error, an interruption); never throws, as the
    /// caller is already reporting why the run stopped.
    func writeCurvesOnEarlyStop() {
        guard let records = try? MetricsLog.read(folder.metrics), !records.isEmpty else { return }
        try? LineChart.writeTrainingCurves(records, to: folder.curves)
    }

    /// Writes neighbors.png when the run has labelled splits (`data.monitor`): queries of the
    /// evaluation split spread over its classes, and their nearest bank images in h (the bank's
    /// features of the last kNN monitor pass when there was one). Skipped when this process
    /// trained no step and the picture exists already. A picture that cannot be made is logged,
    /// not thrown: the run itself has succeeded.
    func writeNeighbors() {
        do {
            try drawNeighbors()
        } catch {
            hooks.log("\(folder.neighbors.path) not written: \(error.localizedDescription)")
        }
    }

    /// Makes and writes neighbors.png (see `writeNeighbors`).
    func drawNeighbors() throws {
        guard let splits = data.monitor else { return }
        if step == startStep && FileManager.default.fileExists(atPath: folder.neighbors.path) { return }
        let search = try NeighborSearch(
            encoder: model.encoder, bank: splits.bank, bankFeatures: finalMonitorBank, queries: splits.queries,
            queryCount: Self.neighborQueries, k: Self.neighborCount, augmentation: config.augmentation,
            batchSize: Self.knnBatchSize(config), loaderThreads: config.runtime.loaderThreads)
        try NeighborPicture.write(search, queries: splits.queries, bank: splits.bank,
                                  tile: NeighborPicture.defaultTile(imageSize: config.data.imageSize), to: folder.neighbors)
    }
}
