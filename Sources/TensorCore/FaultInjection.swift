// Fault injection: named instants of the program (inside an atomic file write, between a checkpoint
// and its `last` pointer, inside a log write, inside the kNN pass, ...) where a test or
// scripts/chaos.sh makes the process die as a power cut or the OOM killer would (SIGKILL), or
// makes a write fail as a full disk would, to prove that every file left on disk stays loadable.
//
// Off unless armed, and then only for the passes named:
//
//     SIMCLR_FAULT=<point>@<n>:<action>[,...]   e.g. atomic-write@3:kill, train-step@6:sigint
//
// (read once from the environment) makes the n-th pass (1-based, counted in this process)
// through <point> do <action>: `kill` sends SIGKILL to the process itself; `enospc`, `efbig`,
// `erofs` or `eio` make that write fail with the errno; `sigint` / `sigterm` raise the signal
// in the passing thread (its handler runs before the program goes on). Tests in one process
// use `arm(_:)`.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What an armed fault point does.
public enum FaultAction: Equatable, Sendable {
    /// SIGKILL the process at that instant.
    case kill
    /// Make the write at that instant fail with this errno (ENOSPC, EFBIG, ...).
    case fail(errno: Int32)
    /// Raise this signal (SIGINT, SIGTERM) in the passing thread, then go on.
    case signal(Int32)

    /// The spellings of `SIMCLR_FAULT` actions.
    static let names: [String: FaultAction] = [
        "kill": .kill, "enospc": .fail(errno: ENOSPC), "efbig": .fail(errno: EFBIG), "erofs": .fail(errno: EROFS),
        "eio": .fail(errno: EIO), "sigint": .signal(SIGINT), "sigterm": .signal(SIGTERM),
    ]
}

/// One armed fault: the `pass`-th pass through `point` does `action`.
public struct FaultPlan: Equatable, Sendable {
    public var point: FaultPoint
    public var pass: Int
    public var action: FaultAction

    public init(point: FaultPoint, pass: Int, action: FaultAction) {
        self.point = point
        self.pass = pass
        self.action = action
    }

    /// Parses `<point>@<n>:<action>`; nil when malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let action = FaultAction.names[parts[1].lowercased()] else { return nil }
        let at = parts[0].split(separator: "@").map(String.init)
        guard at.count == 2, !at[0].isEmpty, let n = Int(at[1]), n >= 1 else { return nil }
        self.init(point: FaultPoint(at[0]), pass: n, action: action)
    }
}

/// A named instant where a fault can be injected.
public struct FaultPoint: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }

    /// Each chunk an `AtomicFile` writes to its temporary file (a kill leaves a partial temporary).
    public static let atomicWrite = FaultPoint("atomic-write")
    /// An `AtomicFile` whose temporary file is complete and fsynced, before the rename.
    public static let atomicRename = FaultPoint("atomic-rename")

    /// Counts one pass. Returns nil (carry on) unless this is an armed pass: then a `kill`
    /// never returns, a `signal` is raised (then nil), and a `fail` returns the errno the
    /// caller must fail with.
    @discardableResult
    public func pass() -> Int32? {
        guard let action = FaultInjection.shared.count(self) else { return nil }
        return FaultInjection.perform(action)
    }

    /// Counts one pass; true when this pass is armed to kill (the caller may first leave a
    /// partial write behind, then calls `FaultInjection.killProcess()`). A signal is raised; a
    /// `fail` is ignored here.
    public func isKillDue() -> Bool {
        guard let action = FaultInjection.shared.count(self) else { return false }
        if action == .kill { return true }
        _ = FaultInjection.perform(action)
        return false
    }
}

/// The armed fault of this process and the pass counts.
public final class FaultInjection: @unchecked Sendable {
    public static let shared = FaultInjection()

    private let lock = NSLock()
    private var plans: [FaultPlan] = []
    private var passes: [FaultPoint: Int] = [:]

    private init() {
        let text = ProcessInfo.processInfo.environment["SIMCLR_FAULT"] ?? ""
        guard let plans = Self.parse(text) else {
            FileHandle.standardError.write(Data("SIMCLR_FAULT=\(text) is ignored: expected <point>@<n>:<action>[,...]\n".utf8))
            return
        }
        self.plans = plans
    }

    /// The plans of a comma-separated `SIMCLR_FAULT` value; nil when one is malformed.
    public static func parse(_ text: String) -> [FaultPlan]? {
        var plans: [FaultPlan] = []
        for item in text.split(separator: ",") {
            guard let plan = FaultPlan(item.trimmingCharacters(in: .whitespaces)) else { return nil }
            plans.append(plan)
        }
        return plans
    }

    /// Arms `plans` (empty disarms) and resets the pass counts.
    public func arm(_ plans: [FaultPlan]) {
        lock.lock()
        defer { lock.unlock() }
        self.plans = plans
        passes = [:]
    }

    /// Counts a pass through `point`; the action if this pass is an armed one.
    func count(_ point: FaultPoint) -> FaultAction? {
        lock.lock()
        defer { lock.unlock() }
        guard !plans.isEmpty, plans.contains(where: { $0.point == point }) else { return nil }
        let n = passes[point, default: 0] + 1
        passes[point] = n
        return plans.first { $0.point == point && $0.pass == n }?.action
    }

    /// Does `action`; the errno of a `fail`, else nil (a `kill` does not return).
    static func perform(_ action: FaultAction) -> Int32? {
        switch action {
        case .kill: killProcess()
        case let .fail(errno): return errno
        case let .signal(signal):
            raise(signal)
            return nil
        }
    }

    /// SIGKILL to this process (does not return).
    public static func killProcess() -> Never {
        kill(getpid(), SIGKILL)
        while true { pause() }
    }
}
