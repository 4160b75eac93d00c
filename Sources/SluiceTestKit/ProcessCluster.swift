import Foundation
import SluiceAuth
import SluiceClient
import SluiceCore

/// A master and workers as child processes of the built executables, on loopback with storage in a temporary
/// directory, so a worker can be killed with SIGKILL in the middle of anything: nothing is flushed, no goodbye
/// is sent. Started and stopped by one owner; `kill(worker:)` may be called from any thread (it only signals
/// and reaps a child).
public final class ProcessCluster: @unchecked Sendable {
    /// How long the master and each worker get to announce their ports, and the workers to register.
    public static let startTimeoutMs = 20_000

    /// `127.0.0.1:PORT` of the master.
    public let masterEndpoint: String
    /// The master process.
    public let master: ChildProcess
    /// The worker processes, by index.
    public private(set) var workers: [ChildProcess] = []
    /// The worker ids, by index.
    public private(set) var workerIds: [String] = []
    /// The workers' operations API ports (`/api/v1/worker`, `/metrics`), by index; a restart updates its entry.
    public private(set) var workerHTTPPorts: [Int] = []
    /// Holds the workers' storage and every child's output files; removed by `shutdown`.
    public let scratch: TempDirectory
    private let binDirectory: String
    private let workerIdPrefix: String
    private let memoryBudget: String
    private let workerArguments: @Sendable (_ index: Int, _ storageDirectory: String) -> [String]
    /// The cluster secret the servers run with, if any.
    private let clusterSecret: String?
    /// Restarts so far, by worker index (names the restarted runs' logs).
    private var restarts: [Int: Int] = [:]

    /// Starts a master and `count` workers and waits until the master places partitions on every worker.
    /// - Parameters:
    ///   - masterArguments: more `sluice-master` flags.
    ///   - memoryBudget: each worker's `--memory-budget` (bytes, or with a unit: `256m`).
    ///   - workerIdPrefix: worker `i` is `PREFIXi`.
    ///   - workerArguments: more `sluice-worker` flags for worker `index`, given its storage directory (tiers
    ///     under it, say).
    ///   - binDirectory: where sluice-master and sluice-worker are; `BuiltExecutables.directory` by default.
    ///   - scratch: the directory to use (and remove at shutdown); a fresh one under /tmp by default.
    ///   - clusterSecret: the master's and workers' cluster secret (nil: no authentication); clients then need
    ///     `applicationCredential(_:)`.
    /// - Throws: `TestKitError` or `TimedOut` (with the child's standard error) when a server does not start.
    public init(
        workers count: Int, masterArguments: [String] = [], memoryBudget: String = "256m",
        workerIdPrefix: String = "worker-",
        workerArguments: @escaping @Sendable (_ index: Int, _ storageDirectory: String) -> [String] = { _, _ in [] },
        binDirectory: URL? = nil, scratch: TempDirectory? = nil, clusterSecret: String? = nil
    ) throws {
        guard let directory = binDirectory ?? BuiltExecutables.directory else {
            throw TestKitError("sluice-master/sluice-worker not found next to the test bundle (run `swift build`)")
        }
        self.binDirectory = directory.path
        self.workerIdPrefix = workerIdPrefix
        self.memoryBudget = memoryBudget
        self.workerArguments = workerArguments
        self.clusterSecret = clusterSecret
        self.scratch = try scratch ?? TempDirectory(prefix: "sluice-proc-")
        master = try ChildProcess(
            executable: self.binDirectory + "/sluice-master",
            arguments: [
                "--host", "127.0.0.1", "--port", "0", "--http-port", "0", "--worker-heartbeat-interval", "200ms",
                "--log-level", "warning",
            ] + (clusterSecret.map { ["--cluster-secret", $0] } ?? []) + masterArguments,
            outputPath: self.scratch.file("master.stdout"),
            errorPath: self.scratch.file("master.log"))
        guard let port = master.announcedPort(prefix: "sluice-master listening on ", timeoutMs: Self.startTimeoutMs)
        else {
            master.kill()
            self.scratch.remove()
            throw TimedOut(what: "master port; stderr:\n\(master.standardErrorTail())")
        }
        masterEndpoint = "127.0.0.1:\(port)"
        do {
            for index in 0..<count { try addWorker(index: index) }
            try waitForPlacement(on: Set(workerIds))
        } catch {
            shutdown()
            throw error
        }
    }

    /// The `--storage-dir` of worker `index`.
    public func storageDirectory(worker index: Int) -> String { scratch.file("worker-\(index)") }

    /// Starts `sluice-worker` number `index` and waits until it announces its port.
    /// - Throws: `TestKitError` or `TimedOut` (with its standard error) when it does not start.
    public func addWorker(index: Int) throws {
        let worker = try launchWorker(index: index, logSuffix: "")
        workers.append(worker)
        workerIds.append("\(workerIdPrefix)\(index)")
        workerHTTPPorts.append(try awaitPorts(of: worker, index: index))
    }

    /// Starts worker `index` again (after `kill(worker:)`) with the same id, storage directory and flags, as an
    /// operator restarting a crashed worker would, and waits until it announces its port (it has recovered its
    /// files by then; it registers with the master right after). Its log goes to `worker-INDEX.rN.log` for the
    /// Nth restart, so the killed run's log is kept. Call it from the cluster's owner only, like `addWorker`.
    /// - Throws: `TestKitError` or `TimedOut` (with its standard error) when it does not start.
    public func restartWorker(index: Int) throws {
        workers[index].kill()
        restarts[index, default: 0] += 1
        let worker = try launchWorker(index: index, logSuffix: ".r\(restarts[index, default: 0])")
        workers[index] = worker
        workerHTTPPorts[index] = try awaitPorts(of: worker, index: index)
    }

    private func launchWorker(index: Int, logSuffix: String) throws -> ChildProcess {
        try ChildProcess(
            executable: binDirectory + "/sluice-worker",
            arguments: [
                "--host", "127.0.0.1", "--advertised-host", "127.0.0.1", "--port", "0", "--http-port", "0",
                "--master", masterEndpoint,
                "--worker-id", "\(workerIdPrefix)\(index)", "--storage-dir", storageDirectory(worker: index),
                "--memory-budget", memoryBudget, "--heartbeat-retry-interval", "100ms", "--log-level", "warning",
            ] + secretArguments + workerArguments(index, storageDirectory(worker: index)),
            outputPath: scratch.file("worker-\(index)\(logSuffix).stdout"),
            errorPath: scratch.file("worker-\(index)\(logSuffix).log"))
    }

    /// Waits until `worker` announces its data port, then returns the operations API port it announces next.
    private func awaitPorts(of worker: ChildProcess, index: Int) throws -> Int {
        guard worker.announcedPort(prefix: "sluice-worker listening on ", timeoutMs: Self.startTimeoutMs) != nil,
            let httpPort = worker.announcedPort(
                prefix: "sluice-worker operations API on ", timeoutMs: Self.startTimeoutMs)
        else {
            throw TimedOut(what: "\(workerIdPrefix)\(index) port; stderr:\n\(worker.standardErrorTail())")
        }
        return httpPort
    }

    /// Kills worker `index` with SIGKILL and reaps it.
    public func kill(worker index: Int) {
        workers[index].kill()
    }

    /// The index of the worker with this id.
    public func index(of workerId: String) -> Int? { workerIds.firstIndex(of: workerId) }

    /// Stops every child and removes the scratch directory. With `graceMs` 0 the children are killed at once;
    /// else they get SIGTERM and up to `graceMs` to exit before SIGKILL.
    public func shutdown(graceMs: Int = 0) {
        let children = workers + [master]
        if graceMs > 0 { for child in children { child.terminate() } }
        for child in children { child.kill(graceMs: graceMs) }
        scratch.remove()
    }

    /// `--cluster-secret S` when the cluster has a secret.
    private var secretArguments: [String] { clusterSecret.map { ["--cluster-secret", $0] } ?? [] }

    /// Registers `applicationId` with the client secret and returns its token, as a driver does; nil when the
    /// cluster has no secret. A client announcing `applicationId` and proving the token may then use the cluster.
    public func applicationCredential(_ applicationId: String) throws -> Credential? {
        guard let clusterSecret else { return nil }
        return try SluiceClient.registerApplication(
            applicationId, masterEndpoint: masterEndpoint,
            clientCredential: try ClusterSecret(text: clusterSecret).clientCredential)
    }

    /// Asks the master to place probe shuffles until every worker in `expected` gets a partition.
    private func waitForPlacement(on expected: Set<String>) throws {
        let probe = MasterClient(
            endpoint: masterEndpoint, identity: "probe", credential: try applicationCredential("probe"),
            requestTimeoutMs: 5_000)
        defer { probe.close() }
        var attempt: UInt32 = 0
        try waitUntil(
            "workers registered; logs:\n\(workers.map { $0.standardErrorTail() })",
            timeoutMs: Self.startTimeoutMs, pollIntervalMs: 20
        ) {
            attempt += 1
            let key = ShuffleKey(applicationId: "probe", shuffleId: attempt)
            guard
                let handle = try? probe.registerShuffle(
                    key, numMappers: 1, numPartitions: UInt32(expected.count * 4),
                    replicate: false)
            else { return false }
            try? probe.unregisterShuffle(key)
            return Set(handle.locations.locations.compactMap { $0.primary?.workerId }) == expected
        }
    }
}
