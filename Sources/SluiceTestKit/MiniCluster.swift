import Logging
import SluiceAuth
import SluiceClient
import SluiceConfig
import SluiceCore
import SluiceMaster
import SluiceSystem
import SluiceWorker

/// An in-process cluster on 127.0.0.1 (or on the master's `master.host`, `::1` say): one master and N workers with storage in a temporary directory.
/// Workers and the master can be stopped and restarted to test failures. Mutated only by its owner, from one
/// thread at a time.
public final class MiniCluster: @unchecked Sendable {
    /// The running master (replaced by `restartMaster`).
    public private(set) var master: MasterServer
    /// The master's port.
    public private(set) var masterPort: Int
    /// The workers, by index (stopped ones included).
    public private(set) var workers: [WorkerServer] = []
    /// The workers' ports, by index.
    public private(set) var workerPorts: [Int] = []
    /// Holds the workers' storage; removed by `shutdown`.
    public let scratch: TempDirectory
    /// What the servers log to.
    public let logger: Logger
    /// What the master was started with (its port aside).
    public let masterOptions: MasterServer.Options
    private let workerIdPrefix: String
    private let quietPorts: Bool

    /// The master's timing and placement settings.
    public var settings: MasterSettings { masterOptions.settings }

    /// `HOST:PORT` of the master (`127.0.0.1:PORT` unless `master.host` was overridden; `[::1]:PORT` for `::1`).
    public var masterEndpoint: String { EndpointText.format(host: masterOptions.host, port: masterPort) }

    /// A cluster with test timing: the config registry's defaults apart from the heartbeat and expiry times.
    /// - Parameters:
    ///   - workerOverrides: worker config keys over the defaults (`worker.memoryBudget` is 512m).
    ///   - masterOverrides: master config keys over the defaults (the limits, say; the timing is set here).
    ///   - applicationTimeoutMs: how long an application without heartbeats lives. The Swift client sends none, so
    ///     the default (10 min) outlasts any test on a loaded machine; expiry tests set it short.
    ///   - heartbeatIntervalMs: what the master tells workers; the heartbeat time-out is 20 times it.
    ///   - logs: where the servers' log records go (else warnings and errors go to standard error).
    ///   - workerSystems: the system-call layer of worker `index` (a fault-injecting one), else the real one.
    ///   - clusterSecret: the master's and workers' cluster secret (nil: no authentication); with
    ///     `authRequired`, peers that do not authenticate are refused.
    /// - Throws: a config, start or `TimedOut` error when the workers do not register within 10 s.
    public convenience init(
        workers count: Int, workerOverrides: [String: String] = [:], masterOverrides: [String: String] = [:],
        applicationTimeoutMs: UInt64 = 600_000, heartbeatIntervalMs: UInt64 = 100,
        logs: CapturedLogs? = nil, workerSystems: [Int: any SystemCalls] = [:],
        clusterSecret: String? = nil, authRequired: Bool = true
    ) throws {
        var options = try Self.masterOptions(port: 0, overrides: masterOverrides)
        options.settings.workerHeartbeatIntervalMs = heartbeatIntervalMs
        options.settings.workerHeartbeatTimeoutMs = heartbeatIntervalMs * 20
        options.settings.applicationTimeoutMs = applicationTimeoutMs
        options.settings.deletedShuffleRetentionMs = 60_000
        var logger =
            logs.map { logs in Logger(label: "sluice.test") { _ in logs.handler() } }
            ?? Logger(label: "sluice.test")
        logger.logLevel = .warning
        var overrides = workerOverrides
        if let clusterSecret {
            options.auth = AuthSettings(secret: try ClusterSecret(text: clusterSecret), isRequired: authRequired)
            overrides["clusterSecret", default: clusterSecret] = clusterSecret
            overrides["authRequired", default: "\(authRequired)"] = "\(authRequired)"
        }
        try self.init(
            workers: count, workerOverrides: overrides,
            masterOptions: options, logger: logger,
            scratch: try TempDirectory(prefix: "sluice-mini-"), workerSystems: workerSystems)
    }

    /// A cluster whose master runs `masterOptions` (its port is chosen here).
    /// - Parameters:
    ///   - workerIdPrefix: worker `i` is `PREFIXi`.
    ///   - quietPorts: listen on random ports below the kernel's ephemeral range (32768 and up), where no
    ///     port-0 server of another test listened: a worker of another test whose master stopped keeps
    ///     reconnecting to that port, and would otherwise land here.
    ///   - scratch: the storage directory, removed by `shutdown`.
    /// - Throws: a config, start or `TimedOut` error when the workers do not register within 10 s.
    public init(
        workers count: Int, workerOverrides: [String: String] = [:], masterOptions: MasterServer.Options,
        logger: Logger, workerIdPrefix: String = "worker-", quietPorts: Bool = false,
        scratch: TempDirectory, workerSystems: [Int: any SystemCalls] = [:]
    ) throws {
        self.logger = logger
        self.masterOptions = masterOptions
        self.workerIdPrefix = workerIdPrefix
        self.quietPorts = quietPorts
        self.scratch = scratch
        do {
            (master, masterPort) = try Self.start(
                quietPorts: quietPorts,
                { port in
                    var options = masterOptions
                    options.port = port
                    return MasterServer(options: options, logger: logger)
                }, start: { try $0.start() }, stop: { $0.stop() })
        } catch {
            scratch.remove()
            throw error
        }
        do {
            for index in 0..<count {
                try addWorker(index: index, overrides: workerOverrides, system: workerSystems[index] ?? PosixSystem())
            }
            try waitUntil("workers registered") { self.workers.allSatisfy(\.isRegistered) }
        } catch {
            shutdown()
            throw error
        }
    }

    /// What a deployed master runs (the config registry's defaults, with `overrides` over them) on 127.0.0.1,
    /// ticking every 50 ms.
    public static func masterOptions(port: Int, overrides: [String: String] = [:]) throws -> MasterServer.Options {
        var all = ["master.host": "127.0.0.1", "master.port": "\(port)", "master.httpPort": "0"]
        all.merge(overrides) { _, new in new }
        var options = MasterServer.Options(try MasterConfig.load(overrides: all))
        options.tickIntervalMs = 50
        return options
    }

    /// Starts worker `index` (id `PREFIXindex`, storage `scratch/worker-INDEX`, listening on and advertising the
    /// master's host) with `overrides` over the cluster's worker settings, over `system` (a fault-injecting one,
    /// say); it registers asynchronously.
    @discardableResult
    public func addWorker(index: Int, overrides: [String: String] = [:], system: any SystemCalls = PosixSystem())
        throws -> WorkerServer
    {
        var all = [
            "worker.host": masterOptions.host, "worker.advertisedHost": masterOptions.host, "worker.port": "0",
            "worker.httpPort": "0",
            "worker.masterAddress": masterEndpoint, "worker.workerId": "\(workerIdPrefix)\(index)",
            "worker.storageDir": scratch.file("worker-\(index)"),
            "worker.heartbeatRetryInterval": "100ms", "worker.memoryBudget": "512m",
            // A few spare files exercise the start-up path; thousands per test worker would only cost the suite time.
            "worker.spareFilesAtStart": "8",
        ]
        all.merge(overrides) { _, new in new }
        let logger = self.logger
        let (worker, port) = try Self.start(
            quietPorts: quietPorts,
            { port in
                var config = all
                if port != 0 { config["worker.port"] = "\(port)" }
                return try WorkerServer(
                    config: try WorkerConfig.load(overrides: config), logger: logger, system: system)
            }, start: { try $0.start() }, stop: { $0.stop() })
        workers.append(worker)
        workerPorts.append(port)
        return worker
    }

    /// Kills a worker the hard way for an in-process server: it stops serving at once.
    public func stopWorker(_ index: Int) {
        workers[index].stop()
    }

    /// Stops the master and starts a fresh one (empty state) on the same port.
    public func restartMaster() throws {
        master.stop()
        var options = masterOptions
        options.port = masterPort
        master = MasterServer(options: options, logger: logger)
        masterPort = try master.start()
    }

    /// A client of this cluster with a 10 s request time-out, announcing `identity` and proving `credential` (an
    /// application's token, with the application as identity) when there is one.
    public func client(
        codec: Codec = .lz4, replicate: Bool = true, credential: Credential? = nil,
        identity: String = "sluice-swift-client", requestTimeoutMs: Int = 10_000
    ) -> SluiceClient {
        var config = ClientConfig(
            masterEndpoint: masterEndpoint, codec: codec, requestTimeoutMs: requestTimeoutMs,
            replicate: replicate)
        config.credential = credential
        return SluiceClient(config: config, identity: identity)
    }

    /// Stops every worker and the master and removes the storage.
    public func shutdown() {
        for worker in workers { worker.stop() }
        master.stop()
        scratch.remove()
    }

    /// Makes and starts a server on port 0, or with `quietPorts` on up to 50 random ports in 20000-31999.
    private static func start<Server>(
        quietPorts: Bool, _ make: (Int) throws -> Server, start: (Server) throws -> Int,
        stop: (Server) -> Void
    ) throws -> (Server, Int) {
        guard quietPorts else {
            let server = try make(0)
            return (server, try start(server))
        }
        var lastError: (any Error)?
        for _ in 0..<50 {
            let server: Server
            do {
                server = try make(Int.random(in: 20_000..<32_000))
            } catch {
                lastError = error
                continue
            }
            do {
                return (server, try start(server))
            } catch {
                stop(server)
                lastError = error
            }
        }
        throw TestKitError("no free port in 20000-31999: \(String(describing: lastError))")
    }
}
