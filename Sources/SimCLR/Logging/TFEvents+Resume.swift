// TensorBoard event files of a resumed run: one file per run folder, continued after a resume,
// so that TensorBoard shows every step once. On resume from the checkpoint of step S, the events
// of later steps (logged after the checkpoint, and logged again by the resumed run) and a record
// torn by a crash are dropped from every event file of the folder, and the newest file is
// continued. A run that starts from scratch removes the event files of an earlier attempt, as it
// replaces metrics.jsonl.
import Foundation

extension TFEventsWriter {
    /// The event writer of a run folder's `directory`: continuing its newest event file with the
    /// events of steps <= `lastStep` kept (resume), or a new file with the old ones removed
    /// (`lastStep` nil: a fresh start).
    public static func forRun(directory: URL, keepingStepsThrough lastStep: Int?) throws -> TFEventsWriter {
        let existing = eventFiles(in: directory)
        guard let lastStep else {
            for url in existing { try? FileManager.default.removeItem(at: url) }
            return try TFEventsWriter(directory: directory)
        }
        for url in existing { try truncate(url, keepingStepsThrough: lastStep) }
        guard let newest = existing.last else { return try TFEventsWriter(directory: directory) }
        return try TFEventsWriter(appendingTo: newest)
    }

    /// The `events.out.tfevents.<seconds>.<host>[.n]` files of `directory`, oldest first.
    static func eventFiles(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        // By creation second, then by the ".n" suffix of files made in the same second (longer is later).
        func key(_ name: String) -> (Int, Int, String) {
            let parts = name.split(separator: ".")
            return (parts.count > 3 ? Int(parts[3]) ?? 0 : 0, name.count, name)
        }
        return names.filter { $0.hasPrefix("events.out.tfevents.") }.sorted { key($0) < key($1) }
            .map { directory.appendingPathComponent($0) }
    }

    /// Rewrites `url` (atomically) without the events past `lastStep` and without a damaged tail;
    /// leaves it alone when there is nothing to drop. The kept records keep their exact bytes.
    static func truncate(_ url: URL, keepingStepsThrough lastStep: Int) throws {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw TFEventsError.cannotRead(url.path, error.localizedDescription)
        }
        let scan = TFRecord.scan(bytes, path: url.path)
        var kept: [UInt8] = []
        var dropped = scan.error != nil
        for record in scan.records {
            let end = record.offset + 16 + record.data.count  // length, its CRC, data, its CRC
            guard let event = try? TFEvent(serialized: record.data), event.step <= Int64(lastStep) else {
                dropped = true
                continue
            }
            kept += bytes[record.offset..<end]
        }
        guard dropped else { return }
        do {
            try AtomicFile.write(kept, to: url)
        } catch {
            throw TFEventsError.writeFailed(url.path, error.localizedDescription)
        }
    }
}
