// Checkpoints of a training run: one safetensors file per save, holding the model's weights
// (torchvision names for the encoder, `head.*` for the projection head), BatchNorm running
// statistics, the optimizer's state (`optimizer.<parameter>.<buffer>`), and metadata strings for
// the progress (epoch, global step) and the resolved configuration (JSON).
//
// Nothing else is needed to resume bit for bit: the model's initial weights come from the seed,
// and the loader's shuffles and views are functions of (seed, epoch, image index) alone
// (DataLoader), so restarting the loader at (epoch, step) reproduces the exact batches.
//
// Names: `checkpoint-epochNNNN` at the end of epoch NNNN, `checkpoint-epochNNNN-stepSSSSSSSS`
// for one written at global step SSSSSSSS inside epoch NNNN (`--checkpoint-steps`, a stop
// signal); the names sort in training order.
//
// Files are written with AtomicFile (temporary file, fsync, rename, directory fsync); the `last`
// pointer file is replaced the same way only after the checkpoint it names is complete, and old
// checkpoints are pruned last. A crash at any instant therefore leaves a loadable checkpoint.

import Foundation

/// A problem finding, reading or matching a checkpoint; the message names the file.
public enum CheckpointError: LocalizedError, Equatable {
    case notACheckpoint(path: String, reason: String)
    case noCheckpoint(path: String)
    case mismatch(path: String, flag: String, checkpoint: String, requested: String)
    /// Writing a new checkpoint failed; `previous` (if any) is still the last one.
    case writeFailed(path: String, bytes: Int, freeBytes: Int?, reason: String, previous: String?)

    public var errorDescription: String? {
        switch self {
        case let .notACheckpoint(path, reason):
            return "\(path) is not a swift-simclr checkpoint: \(reason)"
        case let .noCheckpoint(path):
            return "\(path): no checkpoint found (expected checkpoint-epochNNNN.safetensors files, or a run folder holding them)"
        case let .mismatch(path, flag, checkpoint, requested):
            return "checkpoint \(path) was trained with \(flag) \(checkpoint), but this run asks for \(flag) \(requested); "
                + "use the same value or another --out folder"
        case let .writeFailed(path, bytes, free, reason, previous):
            return "cannot write checkpoint \(path): \(reason); it needs \(ByteCount(bytes))"
                + (free.map { ", \(ByteCount($0)) are free there" } ?? "") + ". "
                + (previous.map { "The previous checkpoint is kept: \($0). " } ?? "No earlier checkpoint exists. ")
                + "Free some space (or lift the limit), then run the same command again to resume."
        }
    }
}

/// What a checkpoint's metadata says.
public struct CheckpointInfo: Sendable {
    public var url: URL
    /// Completed epochs.
    public var epoch: Int
    /// Optimizer steps done (global).
    public var step: Int
    /// The run's configuration.
    public var config: TrainConfig
    /// Steps per epoch and open metrics windows (nil in checkpoints written before they were recorded).
    public var progress: RunProgress? = nil
}

public enum Checkpoint {
    /// The metadata `format` value of checkpoints written here.
    public static let format = "swift-simclr-checkpoint-1"
    /// The metadata `format` value of exported encoders (`simclr export`).
    public static let encoderFormat = "swift-simclr-encoder-1"
    /// Name of the pointer file holding the newest checkpoint's file name.
    public static let pointerName = "last"

    /// "checkpoint-epoch0005.safetensors".
    public static func fileName(epoch: Int) -> String { String(format: "checkpoint-epoch%04d.safetensors", epoch) }

    /// The name of a checkpoint taken after global step `step`: `fileName(epoch:)` at an epoch's
    /// end, else "checkpoint-epoch0003-step00000010.safetensors" (step 10, inside epoch 3).
    public static func fileName(step: Int, stepsPerEpoch spe: Int) -> String {
        if step % spe == 0 { return fileName(epoch: step / spe) }
        return String(format: "checkpoint-epoch%04d-step%08d.safetensors", step / spe + 1, step)
    }

    /// The records and metadata of a checkpoint (for `save`, and for tests of the write protocol).
    public static func contents(
        model: SimCLRModel, optimizer: any Optimizer, config: TrainConfig, epoch: Int, step: Int, progress: RunProgress? = nil
    ) -> (records: [SafeTensors.Record], metadata: [String: String]) {
        let state = optimizer.state()
        var extra: [String: Tensor] = [:]
        for (k, v) in state { extra["optimizer." + k] = v }
        let configJSON = config.json()
        var metadata = [
            "format": format, "epoch": String(epoch), "step": String(step), "seed": String(config.runtime.seed),
            "optimizer": config.optimization.optimizer.rawValue, "arch": config.model.arch.rawValue, "config": configJSON,
        ]
        if let progress { metadata[RunProgress.metadataKey] = progress.json }
        return (SafeTensors.records(parameters: model.parameters, buffers: model.buffers, extra: extra), metadata)
    }

    /// Writes a checkpoint atomically to `url`.
    public static func save(
        model: SimCLRModel, optimizer: any Optimizer, config: TrainConfig, epoch: Int, step: Int, progress: RunProgress? = nil,
        to url: URL
    ) throws {
        let c = contents(model: model, optimizer: optimizer, config: config, epoch: epoch, step: step, progress: progress)
        do {
            try SafeTensors.write(c.records, metadata: c.metadata, to: url)
        } catch let error as AtomicFileError {
            throw writeFailure(error, url: url, bytes: (try? SafeTensors.fileSize(c.records, metadata: c.metadata)) ?? 0)
        }
    }

    /// Saves the checkpoint of `step` in `directory` (named by `fileName(step:stepsPerEpoch:)`
    /// with the progress's steps per epoch, else `fileName(epoch:)`), then points `last` at it,
    /// then deletes all but the newest `keep` checkpoints. Returns the new file. If a write
    /// fails, `last` still names the previous checkpoint and the error says so.
    @discardableResult
    public static func saveAndRotate(
        model: SimCLRModel, optimizer: any Optimizer, config: TrainConfig, epoch: Int, step: Int, progress: RunProgress? = nil,
        in directory: URL, keep: Int
    ) throws -> URL {
        let name = progress.map { fileName(step: step, stepsPerEpoch: $0.stepsPerEpoch) } ?? fileName(epoch: epoch)
        let url = directory.appendingPathComponent(name)
        try save(model: model, optimizer: optimizer, config: config, epoch: epoch, step: step, progress: progress, to: url)
        _ = FaultPoint.checkpointPointer.pass()
        let pointer = Data((url.lastPathComponent + "\n").utf8)
        do {
            try AtomicFile.write(pointer, to: directory.appendingPathComponent(pointerName))
        } catch let error as AtomicFileError {
            try? FileManager.default.removeItem(at: url)  // all or nothing: the previous checkpoint stays the last
            throw writeFailure(error, url: directory.appendingPathComponent(pointerName), bytes: pointer.count)
        }
        _ = FaultPoint.checkpointPrune.pass()
        let all = files(in: directory)
        for old in all.dropLast(max(keep, 1)) where old.lastPathComponent != url.lastPathComponent {
            try? FileManager.default.removeItem(at: old)
        }
        return url
    }

    /// The checkpoint files of `directory`, oldest (lowest epoch) first.
    public static func files(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix("checkpoint-epoch") && $0.hasSuffix(".safetensors") }.sorted()
            .map { directory.appendingPathComponent($0) }
    }

    /// The newest loadable checkpoint of `directory`: the one `last` names if it reads, else the
    /// highest-numbered one whose metadata reads. nil if there is none.
    public static func latest(in directory: URL) -> URL? {
        let pointer = directory.appendingPathComponent(pointerName)
        if let text = try? String(contentsOf: pointer, encoding: .utf8) {
            let url = directory.appendingPathComponent(text.trimmingCharacters(in: .whitespacesAndNewlines))
            if (try? info(url)) != nil { return url }
        }
        return files(in: directory).reversed().first { (try? info($0)) != nil }
    }

    /// Resolves a `--checkpoint` argument: a checkpoint file, a folder of checkpoints, or a run
    /// folder (its `checkpoints/` folder).
    public static func resolve(_ path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw CheckpointError.noCheckpoint(path: path)
        }
        if !isDirectory.boolValue { return url }
        let sub = url.appendingPathComponent("checkpoints")
        if let found = latest(in: sub) ?? latest(in: url) { return found }
        throw CheckpointError.noCheckpoint(path: path)
    }

    /// Reads the metadata of a checkpoint (header only is parsed, but the file is read whole).
    public static func info(_ url: URL) throws -> CheckpointInfo {
        try info(SafeTensorsFile(contentsOf: url), url: url)
    }

    static func info(_ file: SafeTensorsFile, url: URL) throws -> CheckpointInfo {
        let m = file.metadata
        guard m["format"] == format || m["format"] == encoderFormat else {
            throw CheckpointError.notACheckpoint(path: url.path, reason: "metadata 'format' is \(m["format"].map { "'\($0)'" } ?? "missing"), expected '\(format)'")
        }
        guard let epoch = m["epoch"].flatMap(Int.init), let step = m["step"].flatMap(Int.init), epoch >= 0, step >= 0 else {
            throw CheckpointError.notACheckpoint(path: url.path, reason: "metadata 'epoch' / 'step' missing or not integers")
        }
        // Layered over the defaults, so that checkpoints written before a setting existed still read.
        guard let json = m["config"], let layer = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
              let config = try? TrainConfig.layered([ConfigLayer(layer, from: .file(url.path))]).value
        else {
            throw CheckpointError.notACheckpoint(path: url.path, reason: "metadata 'config' missing or unreadable")
        }
        var progress: RunProgress?
        if let text = m[RunProgress.metadataKey] {
            guard let p = RunProgress(json: text) else {
                throw CheckpointError.notACheckpoint(path: url.path, reason: "metadata 'progress' unreadable")
            }
            progress = p
        }
        return CheckpointInfo(url: url, epoch: epoch, step: step, config: config, progress: progress)
    }

    /// Refuses a checkpoint whose architecture or optimizer differs from `config`'s, naming the flag.
    public static func checkCompatible(_ info: CheckpointInfo, with config: TrainConfig) throws {
        let a = info.config.dictionary(), b = config.dictionary()
        for key in TrainConfig.architectureKeys + ["optimizer"] {
            let x = "\(a[key] ?? "")", y = "\(b[key] ?? "")"
            if x != y {
                throw CheckpointError.mismatch(path: info.url.path, flag: ConfigSetting.flag(key), checkpoint: x, requested: y)
            }
        }
    }

    /// Restores weights, running statistics and (when given) the optimizer state, all or nothing.
    @discardableResult
    public static func load(_ url: URL, into model: SimCLRModel, optimizer: (any Optimizer)?) throws -> CheckpointInfo {
        let file = try SafeTensorsFile(contentsOf: url)
        let meta = try info(file, url: url)
        var extra: [String: Tensor] = [:]
        var state: [String: Tensor] = [:]
        if let optimizer {
            state = optimizer.state()
            for (k, v) in state { extra["optimizer." + k] = v }
        }
        try SafeTensors.load(into: model.parameters, buffers: model.buffers, extra: extra, from: file,
                             excluding: optimizer == nil ? ["optimizer."] : [])
        if let optimizer { try optimizer.loadState(state) }
        return meta
    }

    /// Loads the encoder alone (head and optimizer entries ignored), strictly: every encoder
    /// tensor must be present with its shape. Works on checkpoints and on exported encoders.
    public static func loadEncoder(_ url: URL, into encoder: ResNet) throws {
        try SafeTensors.load(into: encoder.parameters, buffers: encoder.buffers, from: url,
                             excluding: ["head.", "optimizer."])
    }
}
