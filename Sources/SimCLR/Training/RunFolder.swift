// The run folder of `simclr train --out DIR`: where a run leaves everything it produces.
//
//     DIR/config.yaml                     the full resolved configuration
//     DIR/metrics.jsonl                   one JSON line per log step and per epoch
//     DIR/tb/events.out.tfevents.*        TensorBoard scalars
//     DIR/checkpoints/checkpoint-epochNNNN.safetensors, DIR/checkpoints/last
//     DIR/curves.png                      loss and accuracy against step (at the end, or when stopped early)
//     DIR/neighbors.png                   nearest training images of a few held-out images (labelled datasets)
//     DIR/summary.json                    the end-of-run summary
//     DIR/.lock                           held by the process training into the folder (RunFolderLock)

import Foundation

/// The run folder could not be used; the message names the folder and the flag.
public struct RunFolderError: LocalizedError, Equatable {
    public var path: String
    public var reason: String
    public var errorDescription: String? { "--out \(path): \(reason); expected a writable folder" }
}

/// Paths of a run folder.
public struct RunFolder: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url.standardizedFileURL }

    public var config: URL { url.appendingPathComponent("config.yaml") }
    public var metrics: URL { url.appendingPathComponent("metrics.jsonl") }
    public var tensorboard: URL { url.appendingPathComponent("tb") }
    public var checkpoints: URL { url.appendingPathComponent("checkpoints") }
    public var curves: URL { url.appendingPathComponent("curves.png") }
    public var neighbors: URL { url.appendingPathComponent("neighbors.png") }
    public var summary: URL { url.appendingPathComponent("summary.json") }

    /// Removes the temporary files that writers killed in mid-write left (see `AtomicFile`).
    public func removeStaleTemporaries() {
        for directory in [url, checkpoints, tensorboard] { AtomicFile.removeStaleTemporaries(in: directory) }
    }

    /// The newest loadable checkpoint of the run, if any.
    public var latestCheckpoint: URL? { Checkpoint.latest(in: checkpoints) }

    /// Creates the folder (and checkpoints/) and checks that files can be written in it.
    public func prepare() throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw RunFolderError(path: url.path, reason: "a file with this name exists")
        }
        do {
            try fm.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        } catch {
            throw RunFolderError(path: url.path, reason: "cannot create it (\(error.localizedDescription))")
        }
        let probe = url.appendingPathComponent(".write-test-\(getpid())")
        guard fm.createFile(atPath: probe.path, contents: Data("x".utf8)) else {
            throw RunFolderError(path: url.path, reason: "cannot create files in it (permission denied?)")
        }
        try? fm.removeItem(at: probe)
    }
}
