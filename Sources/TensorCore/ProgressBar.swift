// A terminal progress bar for long loops (downloads, decoding, training epochs, feature
// extraction). On a terminal it redraws one line in place with "\r", at most ~10 times a
// second; when output goes to a file or pipe it prints an occasional plain line instead, so
// logs stay readable. Time and output are injectable, which keeps it testable.
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thread-safe progress display: label, current/total, rate with unit, ETA, key=value fields.
///
///     let bar = ProgressBar(label: "epoch 3", total: 390, unit: "batch")
///     for step in 0..<390 { ...; bar.advance(fields: [("loss", String(format: "%.3f", loss))]) }
///     bar.finish()
public final class ProgressBar: @unchecked Sendable {
    public let label: String
    /// The count at completion, or nil when unknown (no percentage or ETA then).
    public let total: Int?
    /// Unit of the count ("img", "batch"); "B" formats counts and rates as KB/MB/GB.
    public let unit: String
    /// Redraw in place (terminal) or print plain lines (file / pipe).
    public let isTTY: Bool
    /// Minimum seconds between in-place redraws.
    public let minInterval: Double
    /// Seconds between plain lines when not on a terminal.
    public let plainInterval: Double

    private let clock: @Sendable () -> Double
    private let write: @Sendable (String) -> Void
    private let lock = NSLock()
    private let start: Double
    private var current = 0
    private var fields: [(String, String)] = []
    private var lastDraw: Double = -Double.infinity
    private var finished = false

    /// - Parameters:
    ///   - isTTY: nil detects whether standard error is a terminal.
    ///   - clock: seconds from any fixed origin (default: monotonic time).
    ///   - write: where text goes (default: standard error).
    public init(label: String, total: Int?, unit: String = "it", isTTY: Bool? = nil,
                minInterval: Double = 0.1, plainInterval: Double = 10,
                clock: @escaping @Sendable () -> Double = ProgressBar.monotonicSeconds,
                write: @escaping @Sendable (String) -> Void = ProgressBar.writeToStandardError) {
        self.label = label
        self.total = total
        self.unit = unit
        self.isTTY = isTTY ?? (isatty(STDERR_FILENO) != 0)
        self.minInterval = minInterval
        self.plainInterval = plainInterval
        self.clock = clock
        self.write = write
        self.start = clock()
    }

    /// Sets the count (and replaces the fields, when given) and redraws if it is time.
    public func update(_ value: Int, fields: [(String, String)]? = nil) {
        change(fields: fields) { $0 = value }
    }

    /// Adds `n` to the count (atomically: safe from several threads).
    public func advance(by n: Int = 1, fields: [(String, String)]? = nil) {
        change(fields: fields) { $0 += n }
    }

    private func change(fields: [(String, String)]?, _ body: (inout Int) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        body(&current)
        if let fields { self.fields = fields }
        drawIfDue(force: false)
    }

    /// Draws the final state and ends the line; later updates are ignored.
    public func finish(fields: [(String, String)]? = nil) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        if let fields { self.fields = fields }
        drawIfDue(force: true)
        if isTTY { write("\n") }
        finished = true
    }

    /// The current line, without control characters.
    public var line: String {
        lock.lock()
        defer { lock.unlock() }
        return render(now: clock())
    }

    private func drawIfDue(force: Bool) {
        let now = clock()
        let interval = isTTY ? minInterval : plainInterval
        let done = total.map { current >= $0 } ?? false
        guard force || now - lastDraw >= interval || (done && isTTY) else { return }
        lastDraw = now
        let text = render(now: now)
        write(isTTY ? "\r" + text + "\u{1B}[K" : text + "\n")
    }

    private func render(now: Double) -> String {
        let elapsed = max(now - start, 0)
        return ProgressBar.format(label: label, current: current, total: total, unit: unit, elapsed: elapsed,
                                  fields: fields, bar: isTTY)
    }

    /// One progress line: `label  45% [#########...........] 4.5k/10.0k img  812 img/s  ETA 0:07  loss=1.2`.
    /// Rate = current / elapsed; ETA = (total - current) / rate.
    public static func format(label: String, current: Int, total: Int?, unit: String, elapsed: Double,
                              fields: [(String, String)], bar: Bool, barWidth: Int = 20) -> String {
        var parts: [String] = [label]
        if let total, total > 0 {
            let fraction = min(max(Double(current) / Double(total), 0), 1)
            parts.append(String(format: "%3d%%", Int((fraction * 100).rounded(.down))))
            if bar {
                let filled = Int((fraction * Double(barWidth)).rounded(.down))
                parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "]")
            }
            parts.append("\(amount(current, unit: unit))/\(amount(total, unit: unit)) \(unit)")
        } else {
            parts.append("\(amount(current, unit: unit)) \(unit)")
        }
        let rate = elapsed > 0 ? Double(current) / elapsed : 0
        if rate > 0 {
            parts.append(unit == "B" ? "\(bytes(rate))/s" : "\(number(rate)) \(unit)/s")
            if let total, total > current { parts.append("ETA " + duration(Double(total - current) / rate)) }
        }
        parts.append("elapsed " + duration(elapsed))
        for (k, v) in fields { parts.append("\(k)=\(v)") }
        return parts.joined(separator: "  ")
    }

    /// A count in the bar's unit: bytes as KB/MB/GB, other counts as-is below 10,000 then k/M.
    static func amount(_ n: Int, unit: String) -> String {
        if unit == "B" { return bytes(Double(n)) }
        if n < 10_000 { return String(n) }
        if n < 10_000_000 { return String(format: "%.1fk", Double(n) / 1_000) }
        return String(format: "%.1fM", Double(n) / 1_000_000)
    }

    /// 1536 -> "1.5 KB" (powers of 1024).
    public static func bytes(_ n: Double) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = n, i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(Int(v)) B" : String(format: "%.1f %@", v, units[i])
    }

    static func number(_ x: Double) -> String {
        x >= 100 ? String(format: "%.0f", x) : x >= 10 ? String(format: "%.1f", x) : String(format: "%.2f", x)
    }

    /// Seconds as m:ss or h:mm:ss.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    /// Monotonic seconds (not wall time, which can jump).
    @Sendable public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Writes to standard error, unbuffered.
    @Sendable public static func writeToStandardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
