import Foundation
import Logging
import SluiceClient
import SluiceCore
import SluiceConfig
import SluiceMaster
import SluiceSystem
import SluiceWorker
import Synchronization

/// An in-process cluster on 127.0.0.1 with random ports: one master and N workers with temporary storage.
/// Workers and the master can be stopped and restarted to test failures.
final class MiniCluster: @unchecked Sendable {
    // Mutated only by the test that owns the cluster, from one thread at a time.
    private(set) var master: MasterServer
    private(set) var masterPort: Int
    private(set) var workers: [WorkerServer] = []
    let root: URL
    let logger: Logger
    let settings: MasterSettings

    /// - Parameters:
    ///   - heartbeatIntervalMs: what the master tells workers; the heartbeat time-out is 20 times it.
    ///   - logs: where the servers' log records go (else warnings and errors go to standard error).
    ///   - workerSystems: the system-call layer of worker `index` (a fault-injecting one), else the real one.
    init(workers count: Int, workerOverrides: [String: String] = [:], applicationTimeoutMs: UInt64 = 60_000,
         heartbeatIntervalMs: UInt64 = 100, logs: CapturedLogs? = nil, workerSystems: [Int: any SystemCalls] = [:])
        throws {
        settings = MasterSettings(workerHeartbeatIntervalMs: heartbeatIntervalMs,
                                  workerHeartbeatTimeoutMs: heartbeatIntervalMs * 20,
                                  applicationTimeoutMs: applicationTimeoutMs, deletedShuffleRetentionMs: 60_000)
        var logger = logs.map { logs in Logger(label: "sluice.test") { _ in logs.handler() } } ?? Logger(label: "sluice.test")
        logger.logLevel = .warning
        self.logger = logger
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-mini-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        master = MasterServer(options: try Self.masterOptions(settings: settings, port: 0), logger: logger)
        masterPort = try master.start()
        for index in 0..<count {
            try addWorker(index: index, overrides: workerOverrides, system: workerSystems[index] ?? PosixSystem())
        }
        try waitUntil("workers registered") { self.workers.allSatisfy(\.isRegistered) }
    }

    var masterEndpoint: String { "127.0.0.1:\(masterPort)" }

    /// What a deployed master runs (the config registry's defaults), with this cluster's faster timing.
    static func masterOptions(settings: MasterSettings, port: Int) throws -> MasterServer.Options {
        var options = MasterServer.Options(try MasterConfig.load(overrides: ["master.host": "127.0.0.1",
                                                                             "master.port": "\(port)"]))
        options.settings = settings
        options.tickIntervalMs = 50
        return options
    }

    @discardableResult
    func addWorker(index: Int, overrides: [String: String] = [:], system: any SystemCalls = PosixSystem())
        throws -> WorkerServer {
        var all = [
            "worker.host": "127.0.0.1", "worker.advertisedHost": "127.0.0.1", "worker.port": "0",
            "worker.masterAddress": masterEndpoint, "worker.workerId": "worker-\(index)",
            "worker.storageDir": root.appendingPathComponent("worker-\(index)").path,
            "worker.heartbeatRetryInterval": "100ms", "worker.memoryBudget": "512m",
        ]
        all.merge(overrides) { _, new in new }
        let worker = try WorkerServer(config: try WorkerConfig.load(overrides: all), logger: logger, system: system)
        try worker.start()
        workers.append(worker)
        return worker
    }

    /// Kills a worker the hard way for an in-process server: it stops serving at once.
    func stopWorker(_ index: Int) {
        workers[index].stop()
    }

    /// Stops the master and starts a fresh one (empty state) on the same port.
    func restartMaster() throws {
        master.stop()
        master = MasterServer(options: try Self.masterOptions(settings: settings, port: masterPort), logger: logger)
        masterPort = try master.start()
    }

    func client(codec: Codec = .lz4, replicate: Bool = true) -> SluiceClient {
        SluiceClient(config: ClientConfig(masterEndpoint: masterEndpoint, codec: codec, requestTimeoutMs: 10_000,
                                          replicate: replicate))
    }

    func shutdown() {
        for worker in workers { worker.stop() }
        master.stop()
        try? FileManager.default.removeItem(at: root)
    }
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` until it holds or `timeoutMs` passes (a deadline, not a fixed sleep); throws on time-out.
func waitUntil(_ what: String, timeoutMs: Int = 10_000, _ condition: () -> Bool) throws {
    guard waitUntil(timeoutMs: timeoutMs, condition) else { throw TimedOut(what: what) }
}

/// Log records kept in memory, for tests that assert what a server logged (the logging system is never
/// bootstrapped in tests).
final class CapturedLogs: Sendable {
    /// One record: level, message and metadata rendered as strings.
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    var all: [Record] { records.withLock { $0 } }

    func handler() -> some LogHandler { Handler(logs: self) }

    fileprivate func append(_ record: Record) { records.withLock { $0.append(record) } }

    private struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            logs.append(Record(level: event.level, message: event.message.description,
                               metadata: merged.mapValues(\.description)))
        }
    }
}
