import Foundation
import Logging
import SluiceCore
import SluiceSystem
import SluiceConfig
import SluiceMaster
import SluiceWorker

/// A master and workers on loopback with temporary storage, in this process, for `sluice-bench`
/// when no `--master` is given.
final class EmbeddedCluster {
    let master: MasterServer
    let workers: [WorkerServer]
    let masterEndpoint: String
    private let root: String

    init(workerCount: Int, directory: String, memoryBudgetBytes: Int) throws {
        var logger = Logger(label: "sluice.bench")
        logger.logLevel = .warning
        root = (directory as NSString).appendingPathComponent("sluice-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // The registry's defaults, as a deployed master runs them, on loopback with the child cluster's heartbeat.
        let masterConfig = try MasterConfig.load(overrides: [
            "master.host": "127.0.0.1", "master.port": "0", "master.workerHeartbeatInterval": "200ms",
        ])
        master = MasterServer(options: MasterServer.Options(masterConfig), logger: logger)
        let port = try master.start()
        masterEndpoint = "127.0.0.1:\(port)"
        var started: [WorkerServer] = []
        for index in 0..<workerCount {
            let config = try WorkerConfig.load(overrides: [
                "worker.host": "127.0.0.1", "worker.advertisedHost": "127.0.0.1", "worker.port": "0",
                "worker.masterAddress": masterEndpoint, "worker.workerId": "bench-worker-\(index)",
                "worker.storageDir": (root as NSString).appendingPathComponent("worker-\(index)"),
                "worker.memoryBudget": "\(memoryBudgetBytes)", "worker.heartbeatRetryInterval": "100ms",
            ])
            let worker = try WorkerServer(config: config, logger: logger)
            try worker.start()
            started.append(worker)
        }
        workers = started
        let deadline = Monotonic.nowMs() + 10_000
        while !workers.allSatisfy(\.isRegistered) {
            guard Monotonic.nowMs() < deadline else { throw BenchError("embedded workers did not register within 10 s") }
            ConditionVariable().wait(until: { false }, timeoutMs: 20)
        }
    }

    func shutdown() {
        for worker in workers { worker.stop() }
        master.stop()
        try? FileManager.default.removeItem(atPath: root)
    }
}
