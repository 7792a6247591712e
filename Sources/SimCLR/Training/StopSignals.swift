// SIGINT (Ctrl-C) and SIGTERM (Slurm's preemption signal, `docker stop`, `kill`) while a run
// trains: the first one asks the run to stop after the step in progress; it then writes a
// checkpoint, curves.png and summary.json (marked incomplete) and the command exits with
// 128 + the signal number (130, 143). A second one exits at once (the last complete checkpoint
// stays intact: every file is replaced atomically). If the run has not stopped `gracePeriod`
// seconds after the first signal, an alarm exits the same way, so a stop never takes longer.
//
// SIGXFSZ is ignored while training, so that a file-size limit (ulimit -f) makes the write fail
// with EFBIG, reported with the file's name, instead of killing the process.
//
// The handlers only touch a `sig_atomic_t` flag and async-signal-safe calls (write, alarm, _exit).
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A signal that stops a run.
public enum StopSignal: Int32, Sendable, CaseIterable {
    case interrupt = 2  // SIGINT
    case terminate = 15  // SIGTERM

    /// "SIGINT", "SIGTERM".
    public var name: String { self == .interrupt ? "SIGINT" : "SIGTERM" }
    /// The shell's status for a process stopped by the signal: 128 + its number (130, 143).
    public var exitCode: Int32 { 128 + rawValue }
}

/// The first stop signal received while installed (0: none). Written by the handler only.
nonisolated(unsafe) private var receivedStopSignal: sig_atomic_t = 0

private func writeToStandardError(_ message: StaticString) {
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
}

/// The SIGINT / SIGTERM handler: remember the first, exit at the second.
private func handleStopSignal(_ signal: Int32) {
    if receivedStopSignal != 0 {
        writeToStandardError("\nsimclr: stopped at once; the last complete checkpoint is kept\n")
        _exit(128 + receivedStopSignal)
    }
    receivedStopSignal = signal
    writeToStandardError("\nsimclr: stopping after this step (checkpoint, curves, summary); press Ctrl-C again to stop at once\n")
    alarm(UInt32(StopSignals.gracePeriod))
}

/// The grace-period alarm: the run did not stop in time.
private func handleStopAlarm(_: Int32) {
    writeToStandardError("\nsimclr: could not stop within the grace period; stopped, the last complete checkpoint is kept\n")
    _exit(128 + (receivedStopSignal != 0 ? receivedStopSignal : SIGTERM))
}

/// Installs and removes the stop-signal handlers of a training run.
public final class StopSignals {
    /// Seconds between the first signal and the forced exit.
    public static let gracePeriod = 25

    private var previous: [(Int32, sigaction)] = []

    /// Installs the handlers (and ignores SIGXFSZ) until `restore()`.
    public init() {
        receivedStopSignal = 0
        install(SIGINT, handleStopSignal)
        install(SIGTERM, handleStopSignal)
        install(SIGALRM, handleStopAlarm)
        install(SIGXFSZ, nil)
    }

    deinit { restore() }

    /// The first stop signal received since `init`, if any.
    public static var received: StopSignal? { StopSignal(rawValue: receivedStopSignal) }

    /// Puts the previous handlers back, cancels a pending grace alarm and forgets the signal.
    public func restore() {
        guard !previous.isEmpty else { return }
        alarm(0)
        receivedStopSignal = 0
        for (signal, old) in previous.reversed() {
            var old = old
            sigaction(signal, &old, nil)
        }
        previous = []
    }

    /// `handler` for `signal` (nil: ignore it), remembering the old disposition.
    private func install(_ signal: Int32, _ handler: (@convention(c) (Int32) -> Void)?) {
        var action = sigaction()
        #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = handler ?? SIG_IGN
        #else
            action.__sigaction_u.__sa_handler = handler ?? SIG_IGN
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        var old = sigaction()
        guard sigaction(signal, &action, &old) == 0 else { return }
        previous.append((signal, old))
    }
}
