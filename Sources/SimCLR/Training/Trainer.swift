// The SimCLR training loop (Chen et al., ICML 2020, Algorithm 1) around the tested parts:
//
//     batch = loader.next()                      V views of N images, row v*N + i
//     z = model.forward(batch, training: true)   encoder f then projection head g
//     loss(z, gradient: dz)                      NT-Xent and dL/dz
//     model.backward(dz); optimizer.step(lr(t))  per-step schedule (warmup + cosine)
//
// and the run folder it fills: config.yaml, metrics.jsonl (every `logInterval` steps and every
// epoch, with the data-wait share), TensorBoard scalars, checkpoints every K epochs and at the
// end (atomic, the last few kept), the optional kNN monitor, curves.png and summary.json.
//
// Resuming: a run folder holding a checkpoint continues from it. Weights, BatchNorm statistics
// and optimizer state come from the checkpoint; the loader restarts at the checkpoint's (epoch,
// step) and, its randomness being a function of (seed, epoch, image), replays the same batches,
// so the resumed run ends with the same bits as an uninterrupted one (same threads, same machine).

import Foundation

/// Training stopped for a reason other than bad settings.
public enum TrainingError: LocalizedError, Equatable {
    case nonFiniteLoss(step: Int, epoch: Int, value: Float, lastCheckpoint: String?)
    case checkpointDoesNotFit(path: String, step: Int, stepsPerEpoch: Int)

    public var errorDescription: String? {
        switch self {
        case let .nonFiniteLoss(step, epoch, value, checkpoint):
            return "training stopped: the NT-Xent loss is \(value) at step \(step) (epoch \(epoch)); the weights diverged "
                + "(try a lower --lr, a higher --temperature or warmup). "
                + (checkpoint.map { "The last good checkpoint is kept: \($0)" } ?? "No checkpoint had been written yet.")
        case let .checkpointDoesNotFit(path, step, spe):
            return "checkpoint \(path) is at step \(step), which is not an epoch boundary of this run's \(spe) steps per "
                + "epoch: the dataset size or --batch-size changed since it was written"
        }
    }
}

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
    /// False when stopped early by the `stopAfterStep` test hook.
    public var completed: Bool
}

public final class Trainer {
    public let config: TrainConfig
    public let folder: RunFolder
    /// Refuse to start without a checkpoint to resume from (`--resume`).
    public var requireResume = false
    /// Draw a progress bar on standard error.
    public var showProgress = true
    /// Messages (resume notice, kNN results) go here.
    public var log: (String) -> Void = { ProgressBar.writeToStandardError($0 + "\n") }
    /// Test hook: return right after this global step's optimizer update, writing nothing
    /// further (no log line, no checkpoint), as a crash at that instant would.
    public var stopAfterStep: Int?
    /// Called after each completed step (its logs and checkpoint written) with the global step count.
    public var afterStep: ((Int) -> Void)?
    /// The model after `run()`.
    public private(set) var model: SimCLRModel?

    public init(config: TrainConfig, folder: RunFolder) {
        self.config = config
        self.folder = folder
    }

    /// Runs (or resumes) the training. Validates everything first: settings, data, run folder,
    /// checkpoint compatibility.
    @discardableResult
    public func run() throws -> TrainSummary {
        let c = config
        try c.validate()
        ComputeThreads.set(c.threads)
        let dataset = try c.datasetSpec(split: "train", showProgress: showProgress).make()
        guard dataset.count >= c.batchSize else {
            throw TrainConfigError.invalid(flag: "--batch-size", value: "\(c.batchSize)",
                                           expected: "at most the \(dataset.count) images of \(dataset.name)")
        }
        var knnSets: (train: any ImageDataset, eval: any ImageDataset)?
        if c.knnInterval > 0, let split = c.evaluationSplit {
            knnSets = (try c.datasetSpec(split: "train", showProgress: showProgress).make(),
                       try c.datasetSpec(split: split, showProgress: showProgress).make())
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw RunFolderError(path: folder.url.path, reason: "a file with this name exists")
        }
        var resume: CheckpointInfo?
        if let url = folder.latestCheckpoint {
            let info = try Checkpoint.info(url)
            try Checkpoint.checkCompatible(info, with: c)
            resume = info
        } else if requireResume {
            throw CheckpointError.noCheckpoint(path: folder.checkpoints.path)
        }

        try folder.prepare()

        let model = SimCLRModel(encoder: c.encoderConfig, head: c.headConfig, seed: c.seed)
        model.encoder.convolutionAlgorithm = ConvolutionAlgorithm(rawValue: c.convAlgorithm)!
        self.model = model
        let optimizer = try OptimizerKind(parsing: c.optimizer).make(parameters: model.parameters,
                                                                      settings: c.optimizerSettings)
        let spe = dataset.count / c.batchSize
        let total = spe * c.epochs
        let schedule = try LearningRateSchedule(
            baseLearningRate: Float(c.lr), scaling: LearningRateSchedule.Scaling(rawValue: c.lrScaling)!,
            batchSize: c.batchSize, warmupSteps: min(total, Int((c.warmupEpochs * Double(spe)).rounded())), totalSteps: total)
        let loss = try NTXentLoss(temperature: Float(c.temperature), views: c.views)
        var startStep = 0
        var lastCheckpoint: URL?
        if let r = resume {
            try Checkpoint.load(r.url, into: model, optimizer: optimizer)
            guard r.step == r.epoch * spe else {
                throw TrainingError.checkpointDoesNotFit(path: r.url.path, step: r.step, stepsPerEpoch: spe)
            }
            startStep = min(r.step, total)
            lastCheckpoint = r.url
            log("resuming from \(r.url.path) (epoch \(r.epoch), step \(r.step) of \(total))")
        }
        try AtomicFile.write(Data(c.yaml().utf8), to: folder.config)

        // Logs.
        let repaired = try MetricsLogWriter(url: folder.metrics, resume: startStep > 0, keepingStepsThrough: startStep)
        repaired.close()
        let metrics = try LineAppender(url: folder.metrics)
        let events = try TFEventsWriter(directory: folder.tensorboard)
        defer { try? events.close() }

        let loader = try DataLoader(
            dataset: dataset, pipeline: AugmentationPipeline(c.augmentation),
            options: .init(batchSize: c.batchSize, mode: .training, seed: c.seed, threads: c.loaderThreads,
                           prefetch: c.prefetch, startEpoch: startStep / spe, startStep: startStep % spe, epochs: c.epochs))
        defer { loader.stop() }
        let bar = showProgress ? ProgressBar(label: "train", total: max(total - startStep, 1), unit: "step") : nil

        let clock = ProgressBar.monotonicSeconds
        let runStart = clock()
        var dz: Tensor?
        var step = startStep
        var window = Accumulator(start: runStart, wait: 0)
        var epochAcc = Accumulator(start: runStart, wait: 0)
        var summary = TrainSummary(
            epochs: c.epochs, stepsPerEpoch: spe, steps: total, startStep: startStep, resumedFrom: resume?.url.path,
            seconds: 0, imagesPerSecond: 0, dataWaitShare: 0, lastCheckpoint: lastCheckpoint?.path, completed: false)
        var lastLR: Float = 0

        while step < total {
            guard let batch = try loader.next() else { break }
            precondition(batch.epoch * spe + batch.step == step, "loader at \(batch.epoch):\(batch.step), trainer at step \(step)")
            let z = try model.forward(batch.images, training: true)
            if dz == nil || dz!.shape != z.shape { dz = Tensor(shape: z.shape) }
            let r = try loss(z, gradient: dz!)
            guard r.loss.isFinite else {
                throw TrainingError.nonFiniteLoss(step: step, epoch: step / spe + 1, value: r.loss,
                                                  lastCheckpoint: lastCheckpoint?.path)
            }
            model.backward(dz!)
            lastLR = schedule.lr(atStep: step)
            optimizer.step(learningRate: lastLR)
            step += 1
            if let stop = stopAfterStep, step >= stop {
                summary.seconds = clock() - runStart
                return summary
            }
            window.add(r, images: batch.count)
            epochAcc.add(r, images: batch.count)
            let epoch = (step - 1) / spe + 1
            let now = clock()

            if c.logInterval > 0 && step % c.logInterval == 0 {
                let wait = loader.waitSeconds
                let rec = window.record(kind: .step, step: step, epoch: epoch, lr: Double(lastLR), now: now,
                                        elapsed: now - runStart)
                try metrics.append(rec, extra: window.waitFields(totalWait: wait, now: now))
                try events.addScalars([("train/loss", rec.loss ?? .nan), ("train/top1", rec.top1 ?? .nan),
                                       ("train/top5", rec.top5 ?? .nan), ("train/lr", Double(lastLR)),
                                       ("train/images_per_s", rec.imagesPerSecond ?? 0)], step: step)
                window = Accumulator(start: now, wait: wait)
            }
            bar?.update(step - startStep, fields: [
                ("epoch", "\(epoch)/\(c.epochs)"), ("step", "\(step)/\(total)"), ("loss", String(format: "%.4f", r.loss)),
                ("top1", String(format: "%.3f", r.top1)), ("lr", String(format: "%.4g", lastLR)),
                ("img/s", String(format: "%.0f", Double(step - startStep) * Double(c.batchSize) / max(now - runStart, 1e-9))),
            ])

            if step % spe == 0 {
                let wait = loader.waitSeconds
                var rec = epochAcc.record(kind: .epoch, step: step, epoch: epoch, lr: Double(lastLR), now: now,
                                          elapsed: now - runStart)
                let waitFields = epochAcc.waitFields(totalWait: wait, now: now)
                summary.finalLoss = rec.loss
                summary.finalTop1 = rec.top1
                if let sets = knnSets, epoch % c.knnInterval == 0 || epoch == c.epochs {
                    let acc = try knnMonitor(model.encoder, sets.train, sets.eval)
                    rec.knnTop1 = acc.top1
                    rec.knnTop5 = acc.top5
                    summary.knnTop1 = acc.top1
                    summary.knnTop5 = acc.top5
                    try events.addScalars([("knn/top1", acc.top1), ("knn/top5", acc.top5)], step: step)
                    log(String(format: "kNN (k=%d, T=%g) after epoch %d: top-1 %.2f%%, top-5 %.2f%% on %@",
                               c.knnK, c.knnTemperature, epoch, acc.top1, acc.top5, sets.eval.name))
                }
                try metrics.append(rec, extra: waitFields)
                try events.addScalars([("epoch/loss", rec.loss ?? .nan), ("epoch/top1", rec.top1 ?? .nan),
                                       ("epoch/data_wait_share", waitFields[1].1 ?? 0)], step: step)
                if epoch % c.checkpointInterval == 0 || epoch == c.epochs {
                    try events.flush()
                    lastCheckpoint = try Checkpoint.saveAndRotate(
                        model: model, optimizer: optimizer, config: c, epoch: epoch, step: step,
                        in: folder.checkpoints, keep: c.keepCheckpoints)
                    summary.lastCheckpoint = lastCheckpoint?.path
                }
                let after = clock()
                epochAcc = Accumulator(start: after, wait: loader.waitSeconds)
            }
            afterStep?(step)
        }
        bar?.finish()
        loader.stop()
        try events.close()
        let end = clock()
        let trained = step - startStep
        summary.seconds = end - runStart
        summary.imagesPerSecond = trained > 0 ? Double(trained * c.batchSize) / max(summary.seconds, 1e-9) : 0
        summary.dataWaitShare = summary.seconds > 0 ? loader.waitSeconds / summary.seconds : 0
        summary.completed = step >= total
        try LineChart.writeTrainingCurves(try MetricsLog.read(folder.metrics), to: folder.curves)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try AtomicFile.write(try encoder.encode(summary), to: folder.summary)
        return summary
    }

    /// kNN accuracy (percent) of the current encoder: bank = training split, queries = evaluation split.
    func knnMonitor(_ encoder: ResNet, _ train: any ImageDataset, _ eval: any ImageDataset) throws -> ClassificationAccuracy {
        let batch = min(512, config.batchSize * config.views)
        let a = try FeatureExtraction.extract(encoder: encoder, dataset: train, augmentation: config.augmentation,
                                              batchSize: batch, loaderThreads: config.loaderThreads)
        let b = try FeatureExtraction.extract(encoder: encoder, dataset: eval, augmentation: config.augmentation,
                                              batchSize: batch, loaderThreads: config.loaderThreads)
        let knn = try KNNClassifier(features: a.features, labels: try a.requireLabels(), classCount: max(train.classNames.count, 1))
        return try knn.evaluate(b.features, labels: try b.requireLabels(), k: config.knnK,
                                temperature: Float(config.knnTemperature))
    }
}

/// Sums over a window of steps (a log interval or an epoch).
struct Accumulator {
    var start: Double
    var wait: Double
    var loss = 0.0, top1 = 0.0, top5 = 0.0
    var steps = 0, images = 0

    init(start: Double, wait: Double) {
        self.start = start
        self.wait = wait
    }

    mutating func add(_ r: NTXentResult, images n: Int) {
        loss += Double(r.loss)
        top1 += Double(r.top1)
        top5 += Double(r.top5)
        steps += 1
        images += n
    }

    func record(kind: MetricsRecord.Kind, step: Int, epoch: Int, lr: Double, now: Double, elapsed: Double) -> MetricsRecord {
        let n = Double(max(steps, 1))
        return MetricsRecord(kind: kind, step: step, epoch: epoch, loss: loss / n, top1: top1 / n, top5: top5 / n, lr: lr,
                             imagesPerSecond: Double(images) / max(now - start, 1e-9), elapsed: elapsed)
    }

    /// ("data_wait_s", seconds waited in the window), ("data_wait_share", their share of the window's time).
    func waitFields(totalWait: Double, now: Double) -> [(String, Double?)] {
        let w = totalWait - wait
        return [("data_wait_s", w), ("data_wait_share", w / max(now - start, 1e-9))]
    }
}

/// metrics.jsonl lines with extra keys after the standard ones, each written with one write(2) on an
/// O_APPEND descriptor.
final class LineAppender {
    let url: URL
    private let fd: Int32

    init(url: URL) throws {
        self.url = url
        fd = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MetricsLogError.cannotOpen(url.path, String(cString: strerror(errno))) }
    }

    deinit { close(fd) }

    func append(_ record: MetricsRecord, extra: [(String, Double?)]) throws {
        var line = record.jsonLine
        line.removeLast()  // "}"
        for (k, v) in extra {
            line += ", \"\(k)\": " + (v.flatMap { $0.isFinite ? "\($0)" : nil } ?? "null")
        }
        line += "}\n"
        let bytes = Array(line.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw MetricsLogError.writeFailed(url.path, String(cString: strerror(errno))) }
    }
}
