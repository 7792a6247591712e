// The `simclr` binary as a child process for the tests that need a real process: signals,
// SIGKILL, locks held by another process, resource limits, peak RSS.
import Foundation
import XCTest

/// A started `simclr` child; its output is collected in files.
final class SimclrProcess {
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL

    /// Starts `simclr args` (through `bash -c` with `shellPrefix`, e.g. "ulimit -f 2048;", when given)
    /// with `environment` added to this process's.
    init(_ args: [String], environment: [String: String] = [:], shellPrefix: String? = nil) throws {
        let binary = try TrainCommandTests.simclrBinary()
        let dir = FileManager.default.temporaryDirectory
        let tag = UUID().uuidString
        stdoutURL = dir.appendingPathComponent("simclr-\(tag).out")
        stderrURL = dir.appendingPathComponent("simclr-\(tag).err")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        if let shellPrefix {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            let quoted = ([binary.path] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            process.arguments = ["-c", shellPrefix + " exec " + quoted.joined(separator: " ")]
        } else {
            process.executableURL = binary
            process.arguments = args
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for the exit (a hang guard of `limit` seconds fails the test and kills the child).
    @discardableResult
    func wait(limit: Double = 300, file: StaticString = #filePath, line: UInt = #line) -> SimclrProcess {
        let deadline = Date().addingTimeInterval(limit)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            XCTFail("simclr still running after \(limit) s: \(process.arguments ?? [])", file: file, line: line)
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
        return self
    }

    /// Polls until `condition` holds or the child exits (false) or `limit` seconds pass (false).
    func waitUntil(limit: Double = 300, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            usleep(10_000)
        }
        return false
    }

    /// Runs `simclr args` to the end.
    static func run(_ args: [String], environment: [String: String] = [:], shellPrefix: String? = nil) throws -> SimclrProcess {
        try SimclrProcess(args, environment: environment, shellPrefix: shellPrefix).wait()
    }
}
