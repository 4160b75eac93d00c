import Foundation
import SluiceClient
import SluiceCore
import SluiceNet

/// A master and workers as child processes of the built executables, on loopback with temporary storage, so a
/// worker can be killed with SIGKILL in the middle of anything: nothing is flushed, no goodbye is sent. Started and
/// stopped by one test; `kill(worker:)` may be called from any thread (it only signals and reaps a child).
final class ProcessCluster: @unchecked Sendable {
    let masterEndpoint: String
    private let master: ChildProcess
    private(set) var workers: [ChildProcess] = []
    private(set) var workerIds: [String] = []
    let scratch: URL
    static let startDeadline: Duration = .seconds(20)

    init(workers count: Int, masterArguments: [String] = []) throws {
        let directory = try Self.binDirectory()
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        master = try ChildProcess(executable: directory.appendingPathComponent("sluice-master"),
                                  arguments: ["--host", "127.0.0.1", "--port", "0", "--worker-heartbeat-interval",
                                              "200ms", "--log-level", "warning"] + masterArguments,
                                  scratch: scratch)
        guard let port = master.announcedPort(prefix: "sluice-master listening on ", within: Self.startDeadline) else {
            master.kill()
            throw TimedOut(what: "master port; stderr:\n\(master.standardError)")
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

    /// Starts `sluice-worker` number `index` (id `worker-INDEX`, storage under the scratch directory).
    func addWorker(index: Int) throws {
        let directory = try Self.binDirectory()
        let id = "worker-\(index)"
        let worker = try ChildProcess(executable: directory.appendingPathComponent("sluice-worker"), arguments: [
            "--host", "127.0.0.1", "--advertised-host", "127.0.0.1", "--port", "0", "--master", masterEndpoint,
            "--worker-id", id, "--storage-dir", scratch.appendingPathComponent(id).path, "--memory-budget", "256m",
            "--heartbeat-retry-interval", "100ms", "--log-level", "warning",
        ], scratch: scratch)
        workers.append(worker)
        workerIds.append(id)
        guard worker.announcedPort(prefix: "sluice-worker listening on ", within: Self.startDeadline) != nil else {
            throw TimedOut(what: "\(id) port; stderr:\n\(worker.standardError)")
        }
    }

    /// Kills worker `index` with SIGKILL and reaps it.
    func kill(worker index: Int) {
        workers[index].kill()
    }

    /// Index of the worker with this id.
    func index(of workerId: String) -> Int? { workerIds.firstIndex(of: workerId) }

    /// Asks the master to place probe shuffles until every worker in `expected` gets a partition.
    private func waitForPlacement(on expected: Set<String>) throws {
        let probe = MasterClient(endpoint: masterEndpoint, identity: "probe", requestTimeoutMs: 5_000)
        defer { probe.close() }
        var attempt: UInt32 = 0
        try waitUntil("workers registered", timeoutMs: 20_000) {
            attempt += 1
            let key = ShuffleKey(applicationId: "probe", shuffleId: attempt)
            guard let handle = try? probe.registerShuffle(key, numMappers: 1, numPartitions: UInt32(expected.count * 4),
                                                          replicate: false) else { return false }
            try? probe.unregisterShuffle(key)
            return Set(handle.locations.locations.compactMap { $0.primary?.workerId }) == expected
        }
    }

    func shutdown() {
        for child in workers + [master] { child.kill() }
        try? FileManager.default.removeItem(at: scratch)
    }

    private static func binDirectory() throws -> URL {
        guard let directory = BuiltExecutables.directory else {
            throw TimedOut(what: "sluice-master/sluice-worker next to the test bundle (run `swift build` first)")
        }
        return directory
    }
}
