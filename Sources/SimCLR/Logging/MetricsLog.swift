// metrics.jsonl: the run folder's append-only training log, one JSON object per line, written
// every log step and at the end of every epoch. Lines have the same keys in the same order
// (`MetricsRecord.keys`), with `null` for values that were not measured (e.g. the kNN accuracy
// outside kNN epochs), so `pandas.read_json(path, lines=True)` or `jq` read it directly.
// Each line is written with one write(2) call as soon as it is complete (nothing is buffered in
// the process), and a resumed run reopens the file in append mode, first dropping a torn last
// line and the lines past the checkpoint's step.

import Foundation

/// A problem reading or writing metrics.jsonl; messages name the file, the line and the problem.
public enum MetricsLogError: LocalizedError {
    case cannotOpen(String, String)
    case writeFailed(String, String)
    case malformedLine(String, line: Int, String)

    public var errorDescription: String? {
        switch self {
        case let .cannotOpen(path, why): return "\(path): cannot open the metrics log (\(why))"
        case let .writeFailed(path, why): return "\(path): writing the metrics log failed (\(why))"
        case let .malformedLine(path, line, why):
            return "\(path):\(line): not a metrics record (\(why)); expected one JSON object per line with "
                + "\"kind\", \"step\" and \"epoch\""
        }
    }
}

/// One line of metrics.jsonl.
///
/// Units: `top1` / `top5` are the contrastive accuracies as fractions in [0, 1] (the share of
/// anchors whose positive is the most similar / among the 5 most similar other views);
/// `knnTop1` / `knnTop5` are kNN-monitor accuracies in percent; `lr` is the learning rate of the
/// step; `imagesPerSecond` counts source images (not views); `wallTime` is Unix time in seconds
/// and `elapsed` seconds since the start of the run (excluding time before a resume).
public struct MetricsRecord: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// A log step inside an epoch (values of that step, or averaged since the last log step).
        case step
        /// The end of an epoch (averages over the epoch).
        case epoch
    }

    public var kind: Kind
    /// Optimizer steps done so far (global, counted from 0 at the start of training).
    public var step: Int
    /// 1-based epoch the record belongs to.
    public var epoch: Int
    public var loss: Double?
    public var top1: Double?
    public var top5: Double?
    public var lr: Double?
    public var imagesPerSecond: Double?
    public var wallTime: Double
    public var elapsed: Double?
    public var knnTop1: Double?
    public var knnTop5: Double?
    /// Seconds the training loop waited for the loader in the record's window.
    public var dataWaitSeconds: Double?
    /// `dataWaitSeconds` as a share of the window's wall time.
    public var dataWaitShare: Double?

    public init(
        kind: Kind, step: Int, epoch: Int, loss: Double? = nil, top1: Double? = nil, top5: Double? = nil,
        lr: Double? = nil, imagesPerSecond: Double? = nil, wallTime: Double = Date().timeIntervalSince1970,
        elapsed: Double? = nil, knnTop1: Double? = nil, knnTop5: Double? = nil, dataWaitSeconds: Double? = nil,
        dataWaitShare: Double? = nil
    ) {
        self.kind = kind
        self.step = step
        self.epoch = epoch
        self.loss = loss
        self.top1 = top1
        self.top5 = top5
        self.lr = lr
        self.imagesPerSecond = imagesPerSecond
        self.wallTime = wallTime
        self.elapsed = elapsed
        self.knnTop1 = knnTop1
        self.knnTop5 = knnTop5
        self.dataWaitSeconds = dataWaitSeconds
        self.dataWaitShare = dataWaitShare
    }

    /// The JSON keys, in the order every line writes them.
    public static let keys = [
        "kind", "step", "epoch", "loss", "top1", "top5", "lr", "images_per_s", "wall_time", "elapsed_s",
        "knn_top1", "knn_top5", "data_wait_s", "data_wait_share",
    ]

    /// The record as one line of JSON (no trailing newline). Non-finite numbers are written as null.
    public var jsonLine: String {
        func num(_ v: Double?) -> String {
            guard let v, v.isFinite else { return "null" }
            return "\(v)"
        }
        let values = [
            "\"\(kind.rawValue)\"", "\(step)", "\(epoch)", num(loss), num(top1), num(top5), num(lr),
            num(imagesPerSecond), num(wallTime), num(elapsed), num(knnTop1), num(knnTop5), num(dataWaitSeconds),
            num(dataWaitShare),
        ]
        return "{" + zip(Self.keys, values).map { "\"\($0)\": \($1)" }.joined(separator: ", ") + "}"
    }

    /// Decodes one line. Numbers are parsed with `Double(_:)` (correctly rounded, so a written
    /// record reads back bit for bit); unknown keys are ignored, missing optional keys read as nil.
    public init(jsonLine line: Substring) throws {
        let json = try FlatJSON.parse(line)
        func number(_ key: String) -> Double? {
            if case let .number(v)? = json[key] { return v }
            return nil
        }
        guard case let .string(kindText)? = json["kind"], let kind = Kind(rawValue: kindText) else {
            throw MetricsLogError.malformedLine("", line: 0, "\"kind\" must be \"step\" or \"epoch\"")
        }
        guard let stepValue = number("step"), let epochValue = number("epoch"),
              let step = Int(exactly: stepValue), let epoch = Int(exactly: epochValue), step >= 0, epoch >= 0 else {
            throw MetricsLogError.malformedLine("", line: 0, "\"step\" and \"epoch\" must be whole numbers >= 0")
        }
        self.init(
            kind: kind, step: step, epoch: epoch, loss: number("loss"), top1: number("top1"),
            top5: number("top5"), lr: number("lr"), imagesPerSecond: number("images_per_s"),
            wallTime: number("wall_time") ?? 0, elapsed: number("elapsed_s"), knnTop1: number("knn_top1"),
            knnTop5: number("knn_top5"), dataWaitSeconds: number("data_wait_s"), dataWaitShare: number("data_wait_share"))
    }
}

/// A parser for one-level JSON objects of strings, numbers, booleans and nulls (the lines of
/// metrics.jsonl). Foundation's JSONSerialization is not used because its number parsing is not
/// correctly rounded (4.4399999999999995 reads back as 4.439999999999999).
enum FlatJSON {
    enum Value: Equatable {
        case string(String), number(Double), bool(Bool), null
    }

    struct SyntaxError: Error { var message: String }

    static func parse(_ text: Substring) throws -> [String: Value] {
        var s = Array(text.utf8)[...]
        func skipSpace() { while let c = s.first, c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A { s.removeFirst() } }
        func expect(_ c: UInt8) throws {
            skipSpace()
            guard s.first == c else { throw SyntaxError(message: "expected '\(Character(Unicode.Scalar(c)))'") }
            s.removeFirst()
        }
        func string() throws -> String {
            try expect(0x22)
            var out: [UInt8] = []
            while let c = s.popFirst() {
                if c == 0x22 { return String(decoding: out, as: UTF8.self) }
                if c == 0x5C {
                    guard let e = s.popFirst() else { break }
                    switch e {
                    case 0x6E: out.append(0x0A)
                    case 0x74: out.append(0x09)
                    case 0x72: out.append(0x0D)
                    case 0x75:
                        guard s.count >= 4, let v = UInt32(String(decoding: s.prefix(4), as: UTF8.self), radix: 16),
                            let u = Unicode.Scalar(v)
                        else { throw SyntaxError(message: "bad \\u escape") }
                        s = s.dropFirst(4)
                        out += Array(String(Character(u)).utf8)
                    default: out.append(e)
                    }
                } else {
                    out.append(c)
                }
            }
            throw SyntaxError(message: "unterminated string")
        }
        var result: [String: Value] = [:]
        try expect(0x7B)
        skipSpace()
        if s.first == 0x7D { s.removeFirst() } else {
            while true {
                let key = try string()
                try expect(0x3A)
                skipSpace()
                switch s.first {
                case 0x22: result[key] = .string(try string())
                case 0x6E, 0x74, 0x66:  // null, true, false
                    let word = String(decoding: s.prefix { (0x61...0x7A).contains($0) }, as: UTF8.self)
                    s = s.dropFirst(word.utf8.count)
                    switch word {
                    case "null": result[key] = .null
                    case "true": result[key] = .bool(true)
                    case "false": result[key] = .bool(false)
                    default: throw SyntaxError(message: "unexpected '\(word)'")
                    }
                default:
                    let token = s.prefix { c in (0x30...0x39).contains(c) || c == 0x2D || c == 0x2B || c == 0x2E
                        || c == 0x65 || c == 0x45 }
                    guard !token.isEmpty, let v = Double(String(decoding: token, as: UTF8.self)) else {
                        throw SyntaxError(message: "value of \"\(key)\" is not a string, number, boolean or null")
                    }
                    s = s.dropFirst(token.count)
                    result[key] = .number(v)
                }
                skipSpace()
                guard let c = s.popFirst() else { throw SyntaxError(message: "unterminated object") }
                if c == 0x7D { break }
                guard c == 0x2C else { throw SyntaxError(message: "expected ',' or '}'") }
            }
        }
        skipSpace()
        guard s.isEmpty else { throw SyntaxError(message: "text after the object") }
        return result
    }
}

/// Appends `MetricsRecord`s to metrics.jsonl, one flushed line each.
public final class MetricsLogWriter {
    public let url: URL
    private var handle: FileHandle?

    /// Opens `url` for appending.
    ///
    /// - Parameters:
    ///   - resume: false starts a new log (an existing file is replaced); true keeps the existing
    ///     lines, drops a torn last line (a crash mid-write), and appends after them.
    ///   - keepingStepsThrough: when resuming from a checkpoint taken at this step, drops the
    ///     lines of later steps (they will be logged again), so the log has no duplicates.
    public init(url: URL, resume: Bool = false, keepingStepsThrough lastStep: Int? = nil) throws {
        self.url = url
        let fm = FileManager.default
        if resume, fm.fileExists(atPath: url.path) {
            try Self.repair(url, keepingStepsThrough: lastStep)
        } else {
            guard fm.createFile(atPath: url.path, contents: nil) else {
                throw MetricsLogError.cannotOpen(url.path, "cannot create the file")
            }
        }
        guard let h = FileHandle(forWritingAtPath: url.path) else {
            throw MetricsLogError.cannotOpen(url.path, "cannot open it for writing")
        }
        do {
            try h.seekToEnd()
        } catch {
            throw MetricsLogError.cannotOpen(url.path, error.localizedDescription)
        }
        handle = h
    }

    deinit { try? handle?.close() }

    /// Writes `record` as one line (a single write call, so the line reaches the file at once).
    public func append(_ record: MetricsRecord) throws {
        guard let handle else { throw MetricsLogError.writeFailed(url.path, "the log is closed") }
        let line = Data((record.jsonLine + "\n").utf8)
        if FaultPoint.metricsLine.isKillDue() {  // a crash in mid-write: a torn line
            try? handle.write(contentsOf: line.prefix(line.count / 2))
            FaultInjection.killProcess()
        }
        do {
            try handle.write(contentsOf: line)
        } catch {
            throw MetricsLogError.writeFailed(url.path, error.localizedDescription)
        }
    }

    /// Closes the file; later appends throw.
    public func close() {
        try? handle?.close()
        handle = nil
    }

    /// Keeps the complete lines (and, with `lastStep`, only those with step <= lastStep).
    static func repair(_ url: URL, keepingStepsThrough lastStep: Int?) throws {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw MetricsLogError.cannotOpen(url.path, error.localizedDescription)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let complete = text.hasSuffix("\n") || text.isEmpty
        if !lines.isEmpty { lines.removeLast() }  // "" after the final newline, or the torn line
        var kept = lines
        if let lastStep {
            kept = lines.filter { line in
                guard let obj = try? FlatJSON.parse(line[...]), case let .number(step)? = obj["step"] else { return true }
                return Int(step) <= lastStep
            }
        }
        if complete && kept.count == lines.count { return }
        let body = kept.map { $0 + "\n" }.joined()
        do {
            try Data(body.utf8).write(to: url, options: .atomic)
        } catch {
            throw MetricsLogError.writeFailed(url.path, error.localizedDescription)
        }
    }
}

/// Reading metrics.jsonl back (plots, tests, resume).
public enum MetricsLog {
    /// Every record of the file in order. A torn last line (no final newline) is skipped;
    /// any other unreadable line throws with its line number.
    public static func read(_ url: URL) throws -> [MetricsRecord] {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw MetricsLogError.cannotOpen(url.path, error.localizedDescription)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var out: [MetricsRecord] = []
        for (i, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let isTorn = i == lines.count - 1 && !text.hasSuffix("\n")
            do {
                out.append(try MetricsRecord(jsonLine: line))
            } catch let MetricsLogError.malformedLine(_, _, why) {
                throw MetricsLogError.malformedLine(url.path, line: i + 1, why)
            } catch let error as FlatJSON.SyntaxError {
                if isTorn { break }
                throw MetricsLogError.malformedLine(url.path, line: i + 1, "invalid JSON: \(error.message)")
            }
        }
        return out
    }
}
