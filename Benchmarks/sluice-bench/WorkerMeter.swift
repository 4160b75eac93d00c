import Glibc
import SluiceTestKit

/// Worker CPU time and peak RSS of a set of processes, phase by phase.
struct WorkerMeter: Sendable {
    let pids: [Int32]
    let memoryBudgetBytes: Int
    /// Each worker's `--storage-dir`.
    let storageDirectories: [String]

    /// Waits (polling, up to `timeoutMs`) until no worker holds a directory of these shuffles any more, so that
    /// their deletion (driven by the workers' heartbeats) does not run during the next measurement. Returns
    /// false on time-out.
    @discardableResult
    func waitUntilDeleted(applicationId: String, shuffleIds: [UInt32], timeoutMs: Int = 30_000) -> Bool {
        let paths = storageDirectories.flatMap { root in shuffleIds.map { root + "/" + applicationId + "/\($0)" } }
        return waitUntil(timeoutMs: timeoutMs, pollIntervalMs: 20) { !paths.contains(where: { access($0, F_OK) == 0 }) }
    }

    /// Starts a phase: resets every worker's peak RSS and reads their CPU time.
    func begin() -> ServerSnapshot {
        for pid in pids { ProcStats.resetPeakRSS(pid: pid) }
        return ServerSnapshot(cpuSeconds: pids.map { ProcStats.cpuSeconds(pid: $0) ?? 0 })
    }

    /// Ends a phase: worker CPU seconds (sum over workers) since `begin`, and the largest peak RSS of any worker.
    func end(_ begin: ServerSnapshot) -> ServerMetrics {
        let cpu = zip(pids, begin.cpuSeconds).map { (ProcStats.cpuSeconds(pid: $0) ?? $1) - $1 }
        let peak = pids.compactMap { ProcStats.peakRSSBytes(pid: $0) }.max()
        return ServerMetrics(
            workerCPUSeconds: cpu.reduce(0, +), workerPeakRSSBytes: peak,
            memoryBudgetBytes: memoryBudgetBytes)
    }
}

/// Worker CPU readings at the start of a phase.
struct ServerSnapshot: Sendable {
    let cpuSeconds: [Double]
}

/// What the workers spent during one phase; nil fields when they could not be measured (remote cluster).
struct ServerMetrics: Codable, Sendable {
    var workerCPUSeconds: Double?
    var workerPeakRSSBytes: Int?
    var memoryBudgetBytes: Int?

    static let unavailable = ServerMetrics(workerCPUSeconds: nil, workerPeakRSSBytes: nil, memoryBudgetBytes: nil)

    /// Peak RSS over the configured memory budget.
    var rssOverBudget: Double? {
        guard let peak = workerPeakRSSBytes, let budget = memoryBudgetBytes, budget > 0 else { return nil }
        return Double(peak) / Double(budget)
    }

    /// The larger figures of two phases (CPU adds up).
    func combined(with other: ServerMetrics) -> ServerMetrics {
        func add(_ a: Double?, _ b: Double?) -> Double? { a.flatMap { a in b.map { a + $0 } } }
        let peaks = [workerPeakRSSBytes, other.workerPeakRSSBytes].compactMap { $0 }
        return ServerMetrics(
            workerCPUSeconds: add(workerCPUSeconds, other.workerCPUSeconds),
            workerPeakRSSBytes: peaks.max(), memoryBudgetBytes: memoryBudgetBytes)
    }
}

/// Per-process figures from /proc (Linux).
enum ProcStats {
    /// utime + stime of `pid` in seconds (fields 14 and 15 of /proc/PID/stat), or nil.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)" the fields start at field 3 (state).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ticks > 0 ? (user + system) / ticks : nil
    }

    /// VmHWM of `pid` (peak resident set since start or since the last `resetPeakRSS`), in bytes, or nil.
    static func peakRSSBytes(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let number = line.dropFirst("VmHWM:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            return number.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// Resets VmHWM to the current RSS by writing 5 to /proc/PID/clear_refs (Linux 4.0 and later).
    @discardableResult
    static func resetPeakRSS(pid: Int32) -> Bool {
        let fd = open("/proc/\(pid)/clear_refs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }
}
