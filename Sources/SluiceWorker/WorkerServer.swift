import Logging
import SluiceCompression
import SluiceConfig
import SluiceCore
import SluiceNet
import SluiceOperations
import SluiceStorage
import SluiceSystem
import Synchronization

/// A Sluice worker: takes pushed batches (forwarding each to its replica before acknowledging), stores them
/// through a `PartitionStore`, serves chunked fetches, and keeps itself registered with the master.
public final class WorkerServer: Sendable {
    public let config: WorkerConfig
    let logger: Logger
    let store: any PartitionStore
    let memoryBudget: MemoryBudget
    let replicaClients: FrameClientPool
    /// The system calls the store's files and the server's connections go through (tests inject faults).
    let system: any SystemCalls
    let metrics = WorkerMetrics()
    let streamIds = Atomic<UInt64>(1)
    /// Fetch streams open over all connections (bounded per connection by `maxOpenStreamsPerConnection`).
    let openStreams = OpenStreamCount()
    private let lifecycle = Mutex(Lifecycle())

    private struct Lifecycle: Sendable {
        var server: FrameServer?
        var operations: OperationsServer?
        var masterLink: MasterLink?
        var pressureFlusher: PressureFlusher?
        var demotionLoop: DemotionLoop?
        var address: WorkerAddress?
    }

    /// Registration, draining and deleted shuffles (the control plane as a value; the shells act on its directives).
    let state: Mutex<WorkerState>

    /// Opens (and recovers) the store. Nothing listens until `start()`. Every file and socket call goes through
    /// `system`.
    public init(config: WorkerConfig, logger: Logger, system: any SystemCalls = PosixSystem()) throws {
        self.config = config
        self.logger = logger
        self.system = system
        state = Mutex(WorkerState(retryIntervalMs: config.heartbeatRetryIntervalMs))
        memoryBudget = MemoryBudget(
            capacityBytes: config.memoryBudgetBytes,
            highFraction: config.memoryHighWatermarkFraction,
            lowFraction: config.memoryLowWatermarkFraction)
        store =
            try DirectoryPartitionStore(
                tiers: config.tiers, config: StoreConfig(config),
                memoryBudget: memoryBudget, fileSystem: system, logger: logger, sharedFolder: config.workerId)
            as any PartitionStore
        let report = try store.recover()
        let directories = config.tiers.flatMap(\.directories).joined(separator: ",")
        logger.info(
            "storage recovered",
            metadata: [
                "storage.dir": "\(directories)",
                "recovered.files": "\(report.recovered.count)",
                "truncated.files": "\(report.truncatedTails.count)",
                "corrupt.files": "\(report.corruptFiles.count)",
            ])
        replicaClients = FrameClientPool(
            role: .worker, identity: "replication", credential: config.auth.secret?.workerCredential,
            config: FrameClientConfig(replicationOf: config),
            clientsPerEndpoint: max(config.replicaConnectionsPerPeer, 1), logger: logger)
    }

    /// Chooses the advertised host (`AdvertisedHost`), then starts serving and registering with the master.
    /// Returns the bound data port. Throws `AdvertisedHostError` before listening when the worker would advertise
    /// an address others cannot reach.
    @discardableResult
    public func start() throws -> Int {
        let advertised = try AdvertisedHost.choose(for: config)
        let server = FrameServer(
            config: FrameServerConfig(worker: config, memoryBudget: memoryBudget),
            handler: WorkerHandler(worker: self), logger: logger, system: system,
            authenticator: ClusterAuthenticator.forCluster(
                secret: config.auth.secret, isRequired: config.auth.isRequired))
        let port = try server.start()
        let operations = makeOperationsServer()
        let httpPort: Int
        do {
            httpPort = try operations.start()
        } catch {
            server.stop()
            throw error
        }
        let address = WorkerAddress(
            workerId: config.effectiveWorkerId(advertisedHost: advertised.host, boundPort: port),
            host: advertised.host, port: UInt16(port))
        let link = MasterLink(worker: self, address: address)
        let flusher = PressureFlusher(
            store: store, budget: memoryBudget, logger: logger, idleFlushMs: config.idleFlushTimeMs)
        let demotion = makeDemotionLoop()
        lifecycle.withLock {
            $0.server = server
            $0.operations = operations
            $0.address = address
            $0.masterLink = link
            $0.pressureFlusher = flusher
            $0.demotionLoop = demotion
        }
        try flusher.start()
        try demotion?.start()
        startSpareFiles()
        try link.start()
        logger.info(
            "worker listening",
            metadata: [
                "worker.id": "\(address.workerId)", "host": "\(config.host)",
                "advertised.host": "\(advertised.host)", "advertised.reason": "\(advertised.reason.rawValue)",
                "port": "\(port)", "http.port": "\(httpPort)", "master": "\(config.masterAddress)",
            ])
        return port
    }

    /// Creates the store's spare files (`worker.spareFilesAtStart`) on a thread of their own, so serving starts at
    /// once; a push that arrives first creates its files itself.
    private func startSpareFiles() {
        guard config.spareFilesAtStart > 0 else { return }
        let store = self.store
        let logger = self.logger
        do throws(SystemCallError) {
            try SystemThread.spawn {
                let startedMs = Monotonic.nowMs()
                let created = store.createSpareFiles()
                logger.info(
                    "spare partition files created",
                    metadata: ["files": "\(created)", "duration.ms": "\(Monotonic.nowMs() - startedMs)"])
            }
        } catch {
            logger.warning("cannot start creating spare partition files", metadata: ["error": "\(error)"])
        }
    }

    /// The bound port of the operations API (after `start()`).
    public var httpPort: Int? { lifecycle.withLock { $0.operations?.port } }

    /// Open data connections.
    var connectionCount: Int { lifecycle.withLock { $0.server?.connectionCount } ?? 0 }

    /// The address clients reach this worker at (after `start()`).
    public var address: WorkerAddress? { lifecycle.withLock { $0.address } }

    /// True once the master has acknowledged a registration (tests wait on this).
    public var isRegistered: Bool { lifecycle.withLock { $0.masterLink } != nil && state.withLock { $0.isRegistered } }

    /// Stops everything at once: the master link, the server (closing connections) and the store (flushing).
    /// Acknowledged batches are in the page cache or on disk already; nothing acknowledged is lost.
    public func stop() {
        let (server, link, flusher, operations, demotion) = lifecycle.withLock { state in
            defer {
                state.server = nil
                state.masterLink = nil
                state.pressureFlusher = nil
                state.operations = nil
                state.demotionLoop = nil
            }
            return (state.server, state.masterLink, state.pressureFlusher, state.operations, state.demotionLoop)
        }
        demotion?.stop()
        operations?.stop()
        link?.stop()
        server?.stop()
        flusher?.stop()
        replicaClients.closeAll()
        do {
            try store.close()
        } catch {
            logger.error("storage close failed", metadata: ["error": "\(error)"])
        }
    }

    /// The background demotion loop, when the store has tiers to demote into and `worker.demotionRate` is not 0.
    private func makeDemotionLoop() -> DemotionLoop? {
        guard config.demotionRateBytesPerSec > 0, config.tiers.count > 1, let demoting = store as? any TierDemoting
        else { return nil }
        return DemotionLoop(
            store: demoting, rateBytesPerSec: config.demotionRateBytesPerSec,
            checkIntervalMs: config.demotionCheckIntervalMs, metrics: metrics, logger: logger)
    }

    /// Marks the worker as draining: new pushes are refused with `shuttingDown` (clients revive elsewhere)
    /// and the master gives it no new slots: it is told at once, not at the next heartbeat. Reads keep being served.
    public func beginDraining() {
        let directives = state.withLock { $0.beginDraining() }
        if directives.contains(.heartbeatNow) { beatNow() }
    }

    /// Sends a heartbeat now rather than at the next interval.
    func beatNow() { lifecycle.withLock { $0.masterLink }?.beatNow() }

    /// The shuffles this worker holds files of.
    public var heldShuffles: [ShuffleKey] { store.heldShuffles() }

    /// True while draining (shutdown, or decommissioned by an operator).
    public var isDraining: Bool { state.withLock { $0.isDraining } }

    /// Deletes a shuffle's files on the master's word (`WorkerState` already refuses later pushes to it).
    func deleteShuffleFiles(_ shuffle: ShuffleKey) {
        do {
            let removed = try store.deleteShuffle(applicationId: shuffle.applicationId, shuffleId: shuffle.shuffleId)
            metrics.shufflesDeleted.increment()
            logger.info(
                "shuffle deleted",
                metadata: [
                    "application.id": "\(shuffle.applicationId)",
                    "shuffle.id": "\(shuffle.shuffleId)", "files.removed": "\(removed)",
                ])
        } catch {
            logger.error(
                "shuffle delete failed",
                metadata: [
                    "application.id": "\(shuffle.applicationId)",
                    "shuffle.id": "\(shuffle.shuffleId)", "error": "\(error)",
                ])
        }
    }
}
