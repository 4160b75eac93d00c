import Foundation
import Logging
import SluiceConfig
import SluiceCore
import SluiceMaster
import SluiceTestKit

/// The clusters a run measures when no `--master` is given, from the test kit's launchers: the real executables
/// as child processes, or the same servers in this process (`--in-process`).
enum BenchClusters {
    /// Starts 1 master and `workerCount` workers as child processes (sluice-master and sluice-worker next to
    /// sluice-bench), storage under `directory`; the SIGINT/SIGTERM handler removes the storage too.
    /// - Parameter tiers: the workers' storage tiers; nil for one directory each.
    static func startChildProcesses(
        workerCount: Int, directory: String, memoryBudgetBytes: Int, tiers: TieredWorkers? = nil
    ) throws -> ProcessCluster {
        let binDirectory = try serverDirectory()
        let scratch = try TempDirectory(in: directory, prefix: "sluice-bench-")
        ChildRegistry.shared.addDirectory(scratch.path)
        do {
            return try ProcessCluster(
                workers: workerCount, memoryBudget: "\(memoryBudgetBytes)",
                workerIdPrefix: tiers == nil ? "bench-worker-" : "bench-tiered-worker-",
                workerArguments: { _, storage in tiers.map { ["--tiers", $0.tiersValue(storage: storage)] } ?? [] },
                binDirectory: binDirectory, scratch: scratch)
        } catch {
            ChildRegistry.shared.removeDirectory(scratch.path)
            throw error
        }
    }

    /// Starts 1 master and `workerCount` workers in this process, with the config registry's defaults as a
    /// deployed master runs them and the child cluster's 200 ms heartbeat.
    static func startInProcess(workerCount: Int, directory: String, memoryBudgetBytes: Int) throws -> MiniCluster {
        var logger = Logger(label: "sluice.bench")
        logger.logLevel = .warning
        let masterConfig = try MasterConfig.load(overrides: [
            "master.host": "127.0.0.1", "master.port": "0", "master.httpPort": "0",
            "master.workerHeartbeatInterval": "200ms",
        ])
        return try MiniCluster(
            workers: workerCount, workerOverrides: ["worker.memoryBudget": "\(memoryBudgetBytes)"],
            masterOptions: MasterServer.Options(masterConfig), logger: logger,
            workerIdPrefix: "bench-worker-",
            scratch: try TempDirectory(in: directory, prefix: "sluice-bench-"))
    }

    /// The directory holding this executable, where `swift build` also put sluice-master and sluice-worker.
    static func serverDirectory() throws -> URL {
        let directory = BuiltExecutables.besideMainExecutable
        guard let found = BuiltExecutables.directory(among: [directory]) else {
            throw BenchError(
                "sluice-master or sluice-worker not found next to sluice-bench in \(directory.path) "
                    + "(build it with `swift build -c release`, or use --in-process or --master)")
        }
        return found
    }
}

extension ProcessCluster {
    /// Stops every child (SIGTERM, then SIGKILL after 5 s) and removes the storage, unless the signal handler
    /// is already doing so.
    func stopForBench() {
        ChildRegistry.shared.waitIfAborting()
        shutdown(graceMs: 5_000)
        ChildRegistry.shared.removeDirectory(scratch.path)
    }

    /// Measures the worker processes phase by phase (`tiers`: the layout their storage was started with).
    func meter(memoryBudgetBytes: Int, tiers: TieredWorkers? = nil) -> WorkerMeter {
        WorkerMeter(
            pids: workers.map(\.pid), memoryBudgetBytes: memoryBudgetBytes,
            storageDirectories: workers.indices.flatMap { index in
                let storage = storageDirectory(worker: index)
                return tiers?.directories(storage: storage) ?? [storage]
            })
    }
}

/// The storage of the workers that run tiered scenarios: three tiers in one worker's storage directory, an `nvme`
/// and an `ebs` tier of `tierCapacityBytes` each (new files move on at half of it) and an `fsx` tier that takes the
/// rest, so a scenario overflows from the first tier into the next ones as on a worker whose NVMe fills up.
struct TieredWorkers: Sendable {
    let tierCapacityBytes: Int

    /// The worker's `--tiers` value for its storage directory.
    func tiersValue(storage: String) -> String {
        "kind=nvme dirs=\(storage)/nvme capacity=\(tierCapacityBytes) high=0.5 low=0.25; "
            + "kind=ebs dirs=\(storage)/ebs capacity=\(tierCapacityBytes) high=0.5 low=0.25; "
            + "kind=fsx dirs=\(storage)/fsx"
    }

    /// The tier directories in a worker's storage directory.
    func directories(storage: String) -> [String] { ["nvme", "ebs", "fsx"].map { storage + "/" + $0 } }
}
