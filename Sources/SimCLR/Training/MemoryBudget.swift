// How much memory a run may still allocate before the kernel's OOM killer steps in: the
// machine's MemAvailable (/proc/meminfo: free memory plus what the kernel can reclaim), and,
// when the process runs in a cgroup with a memory limit (containers, Slurm jobs), that limit
// minus the cgroup's usage (reclaimable file cache excluded). The smaller one counts.
// Also this process's resident set size now (/proc/self/statm), the base of every estimate.
import Foundation

/// Bytes that can still be allocated, and where the number comes from (for messages).
public struct MemoryBudget: Equatable, Sendable {
    public var availableBytes: Int
    /// E.g. "MemAvailable in /proc/meminfo", "the cgroup limit memory.max (4.00 GiB) minus its usage".
    public var source: String

    public init(availableBytes: Int, source: String) {
        self.availableBytes = availableBytes
        self.source = source
    }

    /// The machine's budget now; nil where /proc/meminfo cannot be read (not Linux).
    public static func current() -> MemoryBudget? {
        guard let meminfo = read("/proc/meminfo"), let available = memAvailable(meminfo: meminfo) else { return nil }
        var budget = MemoryBudget(availableBytes: available, source: "MemAvailable in /proc/meminfo")
        if let cgroup = cgroupBudget(), cgroup.availableBytes < budget.availableBytes { budget = cgroup }
        return budget
    }

    /// MemAvailable of a /proc/meminfo text, in bytes.
    static func memAvailable(meminfo: String) -> Int? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kib = Int(fields[1]) else { return nil }
            return kib * 1024
        }
        return nil
    }

    /// The budget a cgroup v2 (memory.max) or v1 (memory.limit_in_bytes) limit leaves; nil without a limit.
    static func cgroupBudget() -> MemoryBudget? {
        for dir in cgroupDirectories() {
            if let max = read(dir + "/memory.max"), let current = read(dir + "/memory.current") {
                return cgroupBudget(limit: max, usage: current, stat: read(dir + "/memory.stat"), limitName: "memory.max")
            }
            if let max = read(dir + "/memory.limit_in_bytes"), let current = read(dir + "/memory.usage_in_bytes") {
                return cgroupBudget(limit: max, usage: current, stat: read(dir + "/memory.stat"), limitName: "memory.limit_in_bytes")
            }
        }
        return nil
    }

    /// limit - (usage - inactive file cache); nil when the limit is "max" or absurdly large (no limit).
    static func cgroupBudget(limit: String, usage: String, stat: String?, limitName: String) -> MemoryBudget? {
        let l = limit.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let limitBytes = Int(l), limitBytes < 1 << 60,
              let used = Int(usage.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        var reclaimable = 0
        for line in (stat ?? "").split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, f[0] == "inactive_file" || f[0] == "total_inactive_file", let v = Int(f[1]) { reclaimable = v }
        }
        return MemoryBudget(availableBytes: max(0, limitBytes - max(0, used - reclaimable)),
                            source: "the cgroup limit \(limitName) (\(ByteCount(limitBytes))) minus its usage")
    }

    /// This process's cgroup folders (v2 unified path, then the v1 memory controller, then the root).
    static func cgroupDirectories() -> [String] {
        var dirs: [String] = []
        for line in (read("/proc/self/cgroup") ?? "").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" && parts[1].isEmpty { dirs.append("/sys/fs/cgroup" + parts[2]) }
            if parts[1].split(separator: ",").contains("memory") { dirs.append("/sys/fs/cgroup/memory" + parts[2]) }
        }
        return dirs + ["/sys/fs/cgroup", "/sys/fs/cgroup/memory"]
    }

    /// Resident set size of this process now, in bytes (0 where unknown).
    public static func residentBytes() -> Int {
        guard let statm = read("/proc/self/statm") else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The peak resident set size of this program's address space (VmHWM in /proc/self/status),
    /// in bytes; nil where unknown. Unlike getrusage's ru_maxrss, it does not carry over the
    /// parent's peak into a process started by fork or posix_spawn and exec.
    public static func peakResidentBytes() -> Int? {
        for line in (read("/proc/self/status") ?? "").split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
        }
        return nil
    }

    private static func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
}
