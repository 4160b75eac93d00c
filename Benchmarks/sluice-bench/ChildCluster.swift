import Foundation
import Glibc
import SluiceClient
import SluiceCore
import SluiceSystem
import Synchronization

/// A master and workers as child processes: the real `sluice-master` and `sluice-worker` executables found next
/// to `sluice-bench`, on loopback with temporary storage. Their CPU time and peak RSS are read from /proc, apart
/// from the benchmark's own. Every child is killed by `shutdown()`, by the initializer when it fails, and by the
/// SIGINT/SIGTERM handler of `ChildRegistry`.
final class ChildCluster {
    let masterEndpoint: String
    let master: Child
    let workers: [Child]
    let memoryBudgetBytes: Int
    private let root: TempDirectory
    static let startTimeoutMs: UInt64 = 20_000

    init(workerCount: Int, directory: String, memoryBudgetBytes: Int) throws {
        let bin = try Self.binDirectory()
        self.memoryBudgetBytes = memoryBudgetBytes
        root = try TempDirectory(in: directory)
        ChildRegistry.shared.addDirectory(root.path)
        var started: [Child] = []
        do {
            let master = try Child(executable: bin + "/sluice-master", arguments: [
                "--host", "127.0.0.1", "--port", "0", "--worker-heartbeat-interval", "200ms", "--log-level", "warning",
            ], logPath: root.file("master.log"))
            started.append(master)
            let masterPort = try master.announcedPort(prefix: "sluice-master listening on ",
                                                      timeoutMs: Self.startTimeoutMs)
            masterEndpoint = "127.0.0.1:\(masterPort)"
            for index in 0..<workerCount {
                let worker = try Child(executable: bin + "/sluice-worker", arguments: [
                    "--host", "127.0.0.1", "--advertised-host", "127.0.0.1", "--port", "0",
                    "--master", masterEndpoint, "--worker-id", "bench-worker-\(index)",
                    "--storage-dir", root.file("worker-\(index)"), "--memory-budget", "\(memoryBudgetBytes)",
                    "--heartbeat-retry-interval", "100ms", "--log-level", "warning",
                ], logPath: root.file("worker-\(index).log"))
                started.append(worker)
                _ = try worker.announcedPort(prefix: "sluice-worker listening on ", timeoutMs: Self.startTimeoutMs)
            }
            self.master = master
            workers = Array(started.dropFirst())
            try waitForRegistration(workerCount: workerCount)
        } catch {
            for child in started { child.terminate() }
            for child in started { child.kill() }
            root.remove()
            ChildRegistry.shared.removeDirectory(root.path)
            throw error
        }
    }

    /// Asks the master to place a probe shuffle until every worker holds a partition of it.
    private func waitForRegistration(workerCount: Int) throws {
        let masterClient = MasterClient(endpoint: masterEndpoint, identity: "sluice-bench-probe", requestTimeoutMs: 5_000)
        defer { masterClient.close() }
        let deadline = Monotonic.nowMs() + Self.startTimeoutMs
        var attempt: UInt32 = 0
        while true {
            attempt += 1
            let key = ShuffleKey(applicationId: "sluice-bench-probe", shuffleId: attempt)
            if let handle = try? masterClient.registerShuffle(key, numMappers: 1, numPartitions: UInt32(workerCount * 4),
                                                              replicate: false) {
                let placed = Set(handle.locations.locations.compactMap { $0.primary?.workerId })
                try? masterClient.unregisterShuffle(key)
                if placed.count >= workerCount { return }
            }
            guard Monotonic.nowMs() < deadline else {
                throw BenchError("workers did not register with the master within \(Self.startTimeoutMs) ms; "
                                 + "logs: \(workers.map(\.logTail).joined(separator: "\n"))")
            }
            ConditionVariable().wait(until: { false }, timeoutMs: 50)
        }
    }

    /// Stops every child (SIGTERM, then SIGKILL after a grace period) and removes the storage.
    func shutdown() {
        ChildRegistry.shared.waitIfAborting()
        for child in workers + [master] { child.terminate() }
        for child in workers + [master] { child.kill() }
        root.remove()
        ChildRegistry.shared.removeDirectory(root.path)
    }

    /// Measures the worker processes phase by phase.
    var meter: WorkerMeter {
        WorkerMeter(pids: workers.map(\.pid), memoryBudgetBytes: memoryBudgetBytes,
                    storageDirectories: workers.indices.map { root.file("worker-\($0)") })
    }

    /// The directory holding this executable, where `swift build` also put sluice-master and sluice-worker.
    static func binDirectory() throws -> String {
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let directory = executable.resolvingSymlinksInPath().deletingLastPathComponent().path
        for name in ["sluice-master", "sluice-worker"] {
            guard FileManager.default.isExecutableFile(atPath: directory + "/" + name) else {
                throw BenchError("\(name) not found next to sluice-bench in \(directory) "
                                 + "(build it with `swift build -c release`, or use --in-process or --master)")
            }
        }
        return directory
    }
}

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
        let deadlineNs = Monotonic.nowNs() + UInt64(timeoutMs) * 1_000_000
        while paths.contains(where: { access($0, F_OK) == 0 }) {
            guard Monotonic.nowNs() < deadlineNs else { return false }
            usleep(20_000)
        }
        return true
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
        return ServerMetrics(workerCPUSeconds: cpu.reduce(0, +), workerPeakRSSBytes: peak,
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
        return ServerMetrics(workerCPUSeconds: add(workerCPUSeconds, other.workerCPUSeconds),
                             workerPeakRSSBytes: peaks.max(), memoryBudgetBytes: memoryBudgetBytes)
    }
}

/// Per-process figures from /proc (Linux).
enum ProcStats {
    /// utime + stime of `pid` in seconds (fields 14 and 15 of /proc/PID/stat), or nil.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
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

/// One launched server executable: standard output scanned for its announcement, standard error to a log file.
final class Child {
    private let process = Process()
    private let output = AnnouncedLines()
    private let logPath: String
    let pid: Int32

    init(executable: String, arguments: [String], logPath: String) throws {
        self.logPath = logPath
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw BenchError("cannot create \(logPath)")
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardInput = FileHandle.nullDevice
        let lines = output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                lines.finish()
            } else {
                lines.append(data)
            }
        }
        try process.run()
        pid = process.processIdentifier
        ChildRegistry.shared.add(pid)
    }

    /// The port at the end of the first stdout line starting with `prefix` (`... HOST:PORT`).
    func announcedPort(prefix: String, timeoutMs: UInt64) throws -> Int {
        guard let line = output.waitForLine(timeoutMs: timeoutMs, where: { $0.hasPrefix(prefix) }),
              let colon = line.lastIndex(of: ":"), let port = Int(line[line.index(after: colon)...]) else {
            throw BenchError("\(process.executableURL?.lastPathComponent ?? "child") did not announce its port "
                             + "within \(timeoutMs) ms; stderr:\n\(logTail)")
        }
        return port
    }

    /// Asks the process to stop.
    func terminate() {
        if process.isRunning { _ = Glibc.kill(pid, SIGTERM) }
    }

    /// Waits up to 5 s for the process to end after `terminate()`, then kills it, and reaps it.
    func kill() {
        let deadline = Monotonic.nowMs() + 5_000
        while process.isRunning, Monotonic.nowMs() < deadline {
            ConditionVariable().wait(until: { false }, timeoutMs: 20)
        }
        if process.isRunning {
            _ = Glibc.kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        ChildRegistry.shared.remove(pid)
    }

    /// The last lines of the child's standard error.
    var logTail: String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }
}

/// Lines of a child's standard output, awaited with a deadline.
private final class AnnouncedLines: Sendable {
    private struct State {
        var pending: [UInt8] = []
        var lines: [String] = []
        var finished = false
    }
    private let state = Mutex(State())

    func append(_ data: Data) {
        state.withLock { state in
            state.pending.append(contentsOf: data)
            while let newline = state.pending.firstIndex(of: UInt8(ascii: "\n")) {
                state.lines.append(String(decoding: state.pending[..<newline], as: UTF8.self))
                state.pending.removeSubrange(...newline)
            }
        }
    }

    func finish() { state.withLock { $0.finished = true } }

    func waitForLine(timeoutMs: UInt64, where predicate: (String) -> Bool) -> String? {
        let deadline = Monotonic.nowMs() + timeoutMs
        while true {
            let (match, finished) = state.withLock { ($0.lines.first(where: predicate), $0.finished) }
            if let match { return match }
            if finished || Monotonic.nowMs() >= deadline { return nil }
            ConditionVariable().wait(until: { false }, timeoutMs: 10)
        }
    }
}

/// Process ids of running children, killed with SIGKILL when the benchmark gets SIGINT or SIGTERM (Ctrl-C),
/// so that no server outlives an interrupted run.
final class ChildRegistry: Sendable {
    static let shared = ChildRegistry()
    private let pids = Mutex<Set<Int32>>([])
    private let directories = Mutex<Set<String>>([])
    private let aborting = Atomic<Bool>(false)

    /// While `abort` runs (it ends the process), other threads' clean-up waits here instead of racing it.
    func waitIfAborting() {
        guard aborting.load(ordering: .sequentiallyConsistent) else { return }
        ConditionVariable().wait(until: { false }, timeoutMs: 10_000)
    }

    func add(_ pid: Int32) { pids.withLock { _ = $0.insert(pid) } }
    func remove(_ pid: Int32) { pids.withLock { _ = $0.remove(pid) } }
    /// Directories removed by the signal handler (the cluster's storage).
    func addDirectory(_ path: String) { directories.withLock { _ = $0.insert(path) } }
    func removeDirectory(_ path: String) { directories.withLock { _ = $0.remove(path) } }

    /// Kills every registered child, removes the registered directories, and exits with `status`.
    func abort(status: Int32, message: String) -> Never {
        aborting.store(true, ordering: .sequentiallyConsistent)
        let children = pids.withLock { $0 }
        for pid in children { _ = Glibc.kill(pid, SIGKILL) }
        // Wait (up to 2 s) until they are dead (gone or zombies), so no write lands after the directories go.
        let deadline = Monotonic.nowMs() + 2_000
        while Monotonic.nowMs() < deadline, children.contains(where: Self.isAlive) {
            ConditionVariable().wait(until: { false }, timeoutMs: 10)
        }
        for path in directories.withLock({ $0 }) {
            for _ in 0..<5 where FileManager.default.fileExists(atPath: path) {
                try? FileManager.default.removeItem(atPath: path)
                if FileManager.default.fileExists(atPath: path) { ConditionVariable().wait(until: { false }, timeoutMs: 100) }
            }
        }
        FileHandle.standardError.write(Data("sluice-bench: \(message)\n".utf8))
        exit(status)
    }

    private static func isAlive(_ pid: Int32) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return false }
        // A zombie leader may still have threads exiting (and finishing writes): dead only when they are gone too.
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task"))?.count ?? 0
        return !text[text.index(after: close)...].hasPrefix(" Z") || threads > 1
    }

    /// Installs the SIGINT/SIGTERM handlers (once, at start-up).
    func installSignalHandlers() {
        var made: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                abort(status: 128 + number, message: "interrupted, servers killed")
            }
            source.resume()
            made.append(source)
        }
        signalSources = made
    }
}

/// Keeps the signal sources alive; written once at start-up on the main thread, never read.
private nonisolated(unsafe) var signalSources: [any DispatchSourceSignal] = []

/// Ends the run if one scenario takes longer than its limit (a stalled cluster): kills the servers and exits 3.
final class Watchdog: Sendable {
    private let done = Atomic<Bool>(false)

    init(limitSeconds: Int, what: String) {
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(limitSeconds)) { [self] in
            guard !done.load(ordering: .acquiring) else { return }
            ChildRegistry.shared.abort(status: 3, message: "\(what) did not finish within \(limitSeconds) s "
                                       + "(--scenario-timeout); servers killed")
        }
    }

    func cancel() { done.store(true, ordering: .releasing) }
}
