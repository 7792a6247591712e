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
//
// Checkpoints may also be taken every K steps (`checkpoint_steps`); a resume from one inside an
// epoch is bit-identical too. Stopping: SIGINT / SIGTERM stop after the step with a checkpoint
// (`stopsOnSignals`, see StopSignals); a SIGKILL at any instant leaves loadable files
// (scripts/chaos.sh proves it). One process trains into a folder at a time (RunFolderLock), and a
// batch whose estimated memory exceeds what is available is refused before training (MemoryEstimate).
//
// `Trainer.run()` is the sequence: check settings and data, lock the folder, find the checkpoint
// to resume from, prepare the folder, then `TrainingRun` checks the memory, restores or
// initialises the model and trains epoch by epoch.
import Foundation

/// Trains a SimCLR model on any `ImageDataset` into a run folder.
public final class Trainer {
    public let config: TrainConfig
    public let folder: RunFolder
    /// The images to train on; nil opens the dataset `config.data` names.
    public let data: TrainingData?
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
    /// Stop cleanly on SIGINT / SIGTERM (checkpoint, curves, summary; see `StopSignals`); the
    /// handlers are installed only while the run trains. Off by default for library callers.
    public var stopsOnSignals = false
    /// The memory the run may use (nil: no check); the default reads the machine's and the cgroup's.
    public var memoryBudget: () -> MemoryBudget? = { MemoryBudget.current() }
    /// The model after `run()`.
    public private(set) var model: SimCLRModel?

    public init(config: TrainConfig, folder: RunFolder, data: TrainingData? = nil) {
        self.config = config
        self.folder = folder
        self.data = data
    }

    /// Runs (or resumes) the training. Validates everything first: settings, data, run folder,
    /// checkpoint compatibility.
    @discardableResult
    public func run() throws -> TrainSummary {
        try config.validate()
        ComputeThreads.set(config.runtime.threads)
        let data = try self.data ?? TrainingData.open(config, showProgress: showProgress)
        let stepsPerEpoch = try self.stepsPerEpoch(of: data.train)
        let early = try RunFolderLock.ifFolderExists(folder)  // before reading what another run may be writing
        let resume = try checkpointToResume()
        try folder.prepare()
        let lock = try early ?? RunFolderLock(folder)
        defer { lock.release() }
        folder.removeStaleTemporaries()
        let run = try TrainingRun(trainer: self, data: data, stepsPerEpoch: stepsPerEpoch, resume: resume)
        model = run.model
        let signals = stopsOnSignals ? StopSignals() : nil
        defer { signals?.restore() }
        do {
            return try run.execute()
        } catch {
            run.writeCurvesOnEarlyStop()
            throw error
        }
    }

    /// Full batches per epoch (the last partial batch is dropped); refuses a dataset smaller than a batch.
    func stepsPerEpoch(of dataset: any ImageDataset) throws -> Int {
        let b = config.optimization.batchSize
        guard dataset.count >= b else { throw TrainingError.datasetTooSmall(name: dataset.name, count: dataset.count, batchSize: b) }
        return dataset.count / b
    }

    /// The run folder's newest checkpoint, checked against this run's architecture and optimizer.
    func checkpointToResume() throws -> CheckpointInfo? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw RunFolderError(path: folder.url.path, reason: "a file with this name exists")
        }
        guard let url = folder.latestCheckpoint else {
            if requireResume { throw CheckpointError.noCheckpoint(path: folder.checkpoints.path) }
            return nil
        }
        let info = try Checkpoint.info(url)
        try Checkpoint.checkCompatible(info, with: config)
        return info
    }
}
