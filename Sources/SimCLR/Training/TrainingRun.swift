// One execution of `Trainer.run()`: the model, optimizer, loader and logs of a run, restored
// from a checkpoint or freshly initialised, then trained step by step. The steps, each a
// method: restore or initialise, open the logs, train a step, log a window, end an epoch
// (kNN monitor, checkpoint), finish (curves, summary). Extensions: +Memory (refuse a batch that
// cannot fit), +Checkpoints (every K steps, progress, failed writes), +Signals (SIGINT / SIGTERM).
import Foundation

final class TrainingRun {
    let config: TrainConfig
    let folder: RunFolder
    let data: TrainingData
    let hooks: Trainer
    let model: SimCLRModel
    let optimizer: any Optimizer
    let schedule: LearningRateSchedule
    let loss: NTXentLoss
    let stepsPerEpoch: Int
    let totalSteps: Int
    /// The global step this process started at (0, or the checkpoint's).
    let startStep: Int
    /// Global optimizer steps done.
    var step: Int
    var lastCheckpoint: URL?
    /// The step of the newest checkpoint (nil before the first).
    var checkpointStep: Int?
    let metrics: MetricsLogWriter
    let events: TFEventsWriter
    let loader: DataLoader
    let bar: ProgressBar?
    let runStart: Double
    var window: MetricsWindow
    var epochWindow: MetricsWindow
    var summary: TrainSummary
    var learningRate: Float = 0
    /// The kNN monitor's bank features of the last epoch, reused by the neighbour picture.
    var finalMonitorBank: ExtractedFeatures?
    private var dz: Tensor?

    /// Restores from `resume` or initialises from the seed, writes config.yaml, opens the logs
    /// and starts the loader at the first step to train.
    init(trainer: Trainer, data: TrainingData, stepsPerEpoch spe: Int, resume: CheckpointInfo?) throws {
        let c = trainer.config
        let residentBeforeModel = MemoryBudget.residentBytes()
        config = c
        folder = trainer.folder
        hooks = trainer
        self.data = data
        stepsPerEpoch = spe
        totalSteps = spe * c.optimization.epochs

        model = SimCLRModel(encoder: c.encoderConfig, head: c.headConfig, seed: c.runtime.seed)
        model.encoder.convolutionAlgorithm = c.runtime.convAlgorithm
        optimizer = try c.optimization.optimizer.make(parameters: model.parameters, settings: c.optimizerSettings)
        try Self.checkMemory(config: c, model: model, data: data, process: residentBeforeModel, budget: trainer.memoryBudget(),
                             log: trainer.log)
        schedule = try c.schedule(stepsPerEpoch: spe)
        loss = try NTXentLoss(temperature: Float(c.optimization.temperature), views: c.optimization.views)
        startStep = try Self.restore(resume, into: model, optimizer: optimizer, stepsPerEpoch: spe, totalSteps: totalSteps)
        step = startStep
        lastCheckpoint = resume?.url
        checkpointStep = resume == nil ? nil : startStep
        if let r = resume { trainer.log("resuming from \(r.url.path) (epoch \(r.epoch), step \(r.step) of \(totalSteps))") }
        try AtomicFile.write(Data(try c.yaml().utf8), to: folder.config)

        metrics = try MetricsLogWriter(url: folder.metrics, resume: startStep > 0, keepingStepsThrough: startStep)
        events = try TFEventsWriter.forRun(directory: folder.tensorboard, keepingStepsThrough: startStep > 0 ? startStep : nil)
        loader = try DataLoader(
            dataset: data.train, pipeline: AugmentationPipeline(c.augmentation),
            options: .init(batchSize: c.optimization.batchSize, mode: .training, seed: c.runtime.seed,
                           threads: c.runtime.loaderThreads, prefetch: c.runtime.prefetch, startEpoch: startStep / spe,
                           startStep: startStep % spe, epochs: c.optimization.epochs))
        bar = trainer.showProgress ? ProgressBar(label: "train", total: max(totalSteps - startStep, 1), unit: "step") : nil
        runStart = ProgressBar.monotonicSeconds()
        window = MetricsWindow(start: runStart, waitAtStart: 0)
        epochWindow = window
        summary = TrainSummary(
            epochs: c.optimization.epochs, stepsPerEpoch: spe, steps: totalSteps, startStep: startStep,
            resumedFrom: resume?.url.path, seconds: 0, imagesPerSecond: 0, dataWaitShare: 0,
            lastCheckpoint: resume?.url.path, completed: false)
        restoreProgress(resume)
    }

    deinit {
        loader.stop()
        try? events.close()
    }

    /// Loads weights, statistics and optimizer state; returns the step to continue from.
    static func restore(_ resume: CheckpointInfo?, into model: SimCLRModel, optimizer: any Optimizer, stepsPerEpoch spe: Int,
                        totalSteps: Int) throws -> Int {
        guard let r = resume else { return 0 }
        try Checkpoint.load(r.url, into: model, optimizer: optimizer)
        try checkFits(r, stepsPerEpoch: spe)
        return min(r.step, totalSteps)
    }

    /// Trains until the last step (or the `stopAfterStep` hook), then writes curves and summary.
    func execute() throws -> TrainSummary {
        while step < totalSteps {
            guard let batch = try loader.next() else { break }
            let r = try trainStep(batch)
            if let stop = hooks.stopAfterStep, step >= stop {
                summary.seconds = ProgressBar.monotonicSeconds() - runStart
                return summary
            }
            window.add(r, images: batch.count)
            epochWindow.add(r, images: batch.count)
            let now = ProgressBar.monotonicSeconds()
            if config.runtime.logInterval > 0 && step % config.runtime.logInterval == 0 { try logWindow(now: now) }
            updateBar(r, now: now)
            if step % stepsPerEpoch == 0 { try endEpoch(now: now) }
            try checkpointIfDue()
            hooks.afterStep?(step)
            if let signal = stopRequest() { return try stop(by: signal) }
        }
        return try finish()
    }

    /// One optimizer step on `batch`: forward, NT-Xent, backward, update.
    func trainStep(_ batch: DataLoader.Batch) throws -> NTXentResult {
        precondition(batch.epoch * stepsPerEpoch + batch.step == step, "loader at \(batch.epoch):\(batch.step), trainer at step \(step)")
        let z = try model.forward(batch.images, training: true)
        if dz?.shape != z.shape { dz = Tensor(shape: z.shape) }
        let r = try loss(z, gradient: dz!)
        guard r.loss.isFinite else {
            throw TrainingError.nonFiniteLoss(step: step, epoch: step / stepsPerEpoch + 1, value: r.loss,
                                              lastCheckpoint: lastCheckpoint?.path)
        }
        model.backward(dz!)
        learningRate = schedule.lr(atStep: step)
        optimizer.step(learningRate: learningRate)
        step += 1
        return r
    }

    /// The 1-based epoch of the step just done.
    var epoch: Int { (step - 1) / stepsPerEpoch + 1 }

    func record(_ w: MetricsWindow, kind: MetricsRecord.Kind, now: Double) -> MetricsRecord {
        w.record(kind: kind, step: step, epoch: epoch, lr: Double(learningRate), now: now, elapsed: now - runStart,
                 totalWait: loader.waitSeconds)
    }

    /// A metrics line and TensorBoard scalars for the steps since the last one.
    func logWindow(now: Double) throws {
        let rec = record(window, kind: .step, now: now)
        try metrics.append(rec)
        try events.addScalars([("train/loss", rec.loss ?? .nan), ("train/top1", rec.top1 ?? .nan),
                               ("train/top5", rec.top5 ?? .nan), ("train/lr", Double(learningRate)),
                               ("train/images_per_s", rec.imagesPerSecond ?? 0)], step: step)
        window = MetricsWindow(start: now, waitAtStart: loader.waitSeconds)
    }

    func updateBar(_ r: NTXentResult, now: Double) {
        let imagesPerSecond = Double(step - startStep) * Double(config.optimization.batchSize) / max(now - runStart, 1e-9)
        bar?.update(step - startStep, fields: [
            ("epoch", "\(epoch)/\(config.optimization.epochs)"), ("step", "\(step)/\(totalSteps)"),
            ("loss", String(format: "%.4f", r.loss)), ("top1", String(format: "%.3f", r.top1)),
            ("lr", String(format: "%.4g", learningRate)), ("img/s", String(format: "%.0f", imagesPerSecond)),
        ])
    }

    /// The epoch's record (with the kNN monitor when due) and, when due, a checkpoint.
    func endEpoch(now: Double) throws {
        var rec = record(epochWindow, kind: .epoch, now: now)
        summary.finalLoss = rec.loss
        summary.finalTop1 = rec.top1
        let last = epoch == config.optimization.epochs
        if let splits = data.monitor, config.runtime.knnInterval > 0, epoch % config.runtime.knnInterval == 0 || last,
           let acc = try knnMonitor(bank: splits.bank, queries: splits.queries) {
            (rec.knnTop1, rec.knnTop5) = (acc.top1, acc.top5)
            (summary.knnTop1, summary.knnTop5) = (acc.top1, acc.top5)
            try events.addScalars([("knn/top1", acc.top1), ("knn/top5", acc.top5)], step: step)
        }
        try metrics.append(rec)
        try events.addScalars([("epoch/loss", rec.loss ?? .nan), ("epoch/top1", rec.top1 ?? .nan),
                               ("epoch/data_wait_share", rec.dataWaitShare ?? 0)], step: step)
        if epoch % config.runtime.checkpointInterval == 0 || last { try checkpoint() }
        epochWindow = MetricsWindow(start: ProgressBar.monotonicSeconds(), waitAtStart: loader.waitSeconds)
    }

    /// kNN accuracy (percent) of the current encoder, logged; nil when a stop signal cut it short.
    func knnMonitor(bank: any ImageDataset, queries: any ImageDataset) throws -> ClassificationAccuracy? {
        let r = config.runtime
        guard let f = try stoppable({ try monitorFeatures(bank: bank, queries: queries) }) else { return nil }
        let acc = try KNNEvaluation.run(bank: f.bank, queries: f.queries, options: KNNOptions(k: r.knnK, temperature: r.knnTemperature))
        hooks.log(String(format: "kNN (k=%d, T=%g) after epoch %d: top-1 %.2f%%, top-5 %.2f%% %@",
                         r.knnK, r.knnTemperature, epoch, acc.top1, acc.top5, EvaluationScope(fitted: f.bank, scored: f.queries).description))
        return acc
    }

    /// Writes a checkpoint (atomically) and prunes old ones.
    func checkpoint() throws {
        try requireFiniteState()
        try events.flush()
        lastCheckpoint = try saveCheckpoint()
        summary.lastCheckpoint = lastCheckpoint?.path
    }

    /// Closes the logs, writes curves.png, neighbors.png and summary.json.
    func finish() throws -> TrainSummary {
        bar?.finish()
        loader.stop()
        try events.close()
        metrics.close()
        let trained = step - startStep
        summary.seconds = ProgressBar.monotonicSeconds() - runStart
        summary.imagesPerSecond = trained > 0 ? Double(trained * config.optimization.batchSize) / max(summary.seconds, 1e-9) : 0
        summary.dataWaitShare = summary.seconds > 0 ? loader.waitSeconds / summary.seconds : 0
        summary.completed = step >= totalSteps && summary.stoppedBy == nil
        try LineChart.writeTrainingCurves(try MetricsLog.read(folder.metrics), to: folder.curves)
        writeNeighbors()
        try AtomicFile.write(try summary.json(), to: folder.summary)
        return summary
    }
}
