import SluiceCore

/// The worker's configuration, typed, with units in field names.
public struct WorkerConfig: Sendable, Equatable {
    /// Address to listen on.
    public var host: String
    /// Host the master gives clients and peers for reaching this worker; nil = chosen at start (see
    /// `worker.advertisedHost`).
    public var advertisedHost: String?
    /// TCP port to listen on (0 = any free port).
    public var port: Int
    /// The operations API.
    public var http: HTTPSettings
    /// The master to register with.
    public var masterAddress: HostPort
    /// Configured identity; nil = derive with `effectiveWorkerId(advertisedHost:boundPort:)`.
    public var workerId: String?
    /// Directory for partition files when `tiers` was not configured.
    public var storageDir: String
    /// Storage tiers, fastest first: `worker.tiers`, or one nvme tier on `storageDir`.
    public var tiers: [StorageTierConfig]
    /// Process-wide budget for buffered bytes.
    public var memoryBudgetBytes: Int
    /// Pause reading above this fraction of the budget.
    public var memoryHighWatermarkFraction: Double
    /// Resume reading below this fraction of the budget.
    public var memoryLowWatermarkFraction: Double
    /// Per-partition write buffer size.
    public var flushBufferBytes: Int
    /// Target fetch-chunk size.
    public var chunkTargetBytes: Int
    /// Partition size past which writers are asked to split.
    public var partitionSoftLimitBytes: Int
    /// Partition size past which pushes are rejected.
    public var partitionHardLimitBytes: Int
    /// Whether flushes are followed by fsync.
    public var fsyncOnFlush: Bool
    /// Deleted partition files kept for reuse (0: off).
    public var recycledFilesMax: Int
    /// Empty files created into the recycled-file pool at start, per directory of the fastest tier.
    public var spareFilesAtStart: Int
    /// How often an unhealthy storage directory is probed before it gets new files again.
    public var storageProbeIntervalMs: Int
    /// A storage call in flight this long marks its directory stalled (unhealthy).
    public var storageStallTimeoutMs: Int
    /// A file with no append for this long has its buffer written out (0: never for idleness).
    public var idleFlushTimeMs: Int
    /// For tests: every push is answered this much later (0: at once).
    public var testPushDelayMs: Int
    /// Bytes per second demotion may copy to the next tier (0: off).
    public var demotionRateBytesPerSec: Int
    /// A file idle this long may be demoted.
    public var demotionIdleMs: Int
    /// How often the worker looks for directories to demote from.
    public var demotionCheckIntervalMs: Int
    /// Capacity of emptied flush buffers kept for reuse.
    public var flushBufferPoolBytes: Int
    /// Capacity of answered request bodies kept for the readers to reuse.
    public var receiveBufferPoolBytes: Int
    /// glibc's M_MMAP_THRESHOLD, set by the worker process at start (0: leave glibc's adaptive threshold).
    public var mallocMmapThresholdBytes: Int
    /// Maximum concurrent connections.
    public var maxConnections: Int
    /// Maximum frame body accepted.
    public var maxFrameBodyBytes: Int
    /// Unanswered requests allowed per connection.
    public var maxInFlightRequestsPerConnection: Int
    /// Idle connections are closed after this long (0 = never).
    public var idleTimeoutMs: Int
    /// Timeout for a replica's acknowledgement.
    public var replicationTimeoutMs: Int
    /// Connections opened to each replication peer.
    public var replicaConnectionsPerPeer: Int
    /// Fetch streams one connection may hold open.
    public var maxOpenStreamsPerConnection: Int
    /// Codec that uncompressed batches are recompressed to for readers that accept it.
    public var fetchCompressionCodec: Codec
    /// Delay between register/heartbeat attempts while the master is unreachable.
    public var heartbeatRetryIntervalMs: Int
    /// Time given to in-flight work at shutdown.
    public var shutdownGracePeriodMs: Int
    /// The cluster secret and whether peers must authenticate.
    public var auth: AuthSettings
    /// Connections one remote IP address may hold open at once.
    public var maxConnectionsPerPeer: Int
    /// Held partitions per registration message.
    public var registrationPageSize: Int
    /// Minimum log level.
    public var logLevel: LogLevel
    /// `text` or `json` log lines.
    public var logFormat: String

    /// Builds the typed view of a worker configuration.
    public init(_ config: ResolvedConfig) throws(ConfigError) {
        typealias K = WorkerKeys
        host = try config.value(K.host)
        let advertised = try config.value(K.advertisedHost)
        advertisedHost = advertised.isEmpty ? nil : advertised
        port = try config.value(K.port)
        http = try HTTPSettings(config, port: K.httpPort)
        masterAddress = try config.value(K.masterAddress)
        let id = try config.value(K.workerId)
        workerId = id.isEmpty ? nil : id
        storageDir = try config.value(K.storageDir)
        let tierRecords = try config.value(K.tiers)
        var tiers: [StorageTierConfig] = []
        for record in tierRecords {
            tiers.append(try StorageTierConfig(record: record, source: config.source(of: K.tiers)))
        }
        self.tiers = tiers.isEmpty ? [try StorageTierConfig.single(directory: storageDir)] : tiers
        memoryBudgetBytes = try config.value(K.memoryBudget)
        memoryHighWatermarkFraction = try config.value(K.memoryHighWatermarkFraction)
        memoryLowWatermarkFraction = try config.value(K.memoryLowWatermarkFraction)
        flushBufferBytes = try config.value(K.flushBufferSize)
        chunkTargetBytes = try config.value(K.chunkTargetSize)
        partitionSoftLimitBytes = try config.value(K.partitionSoftLimit)
        partitionHardLimitBytes = try config.value(K.partitionHardLimit)
        fsyncOnFlush = try config.value(K.fsyncOnFlush)
        recycledFilesMax = try config.value(K.recycledFilesMax)
        spareFilesAtStart = try config.value(K.spareFilesAtStart)
        storageProbeIntervalMs = try config.value(K.storageProbeInterval)
        storageStallTimeoutMs = try config.value(K.storageStallTimeout)
        idleFlushTimeMs = try config.value(K.idleFlushTime)
        testPushDelayMs = try config.value(K.testPushDelay)
        flushBufferPoolBytes = try config.value(K.flushBufferPoolSize)
        receiveBufferPoolBytes = try config.value(K.receiveBufferPoolSize)
        demotionRateBytesPerSec = try config.value(K.demotionRate)
        demotionIdleMs = try config.value(K.demotionIdleTime)
        demotionCheckIntervalMs = try config.value(K.demotionCheckInterval)
        mallocMmapThresholdBytes = try config.value(K.mallocMmapThreshold)
        maxConnections = try config.value(K.maxConnections)
        maxFrameBodyBytes = try config.value(K.maxFrameBodySize)
        maxInFlightRequestsPerConnection = try config.value(K.maxInFlightRequestsPerConnection)
        idleTimeoutMs = try config.value(K.idleTimeout)
        replicationTimeoutMs = try config.value(K.replicationTimeout)
        replicaConnectionsPerPeer = try config.value(K.replicaConnectionsPerPeer)
        maxOpenStreamsPerConnection = try config.value(K.maxOpenStreamsPerConnection)
        fetchCompressionCodec = try config.value(K.fetchCompressionCodec)
        heartbeatRetryIntervalMs = try config.value(K.heartbeatRetryInterval)
        shutdownGracePeriodMs = try config.value(K.shutdownGracePeriod)
        auth = try AuthSettings(config)
        maxConnectionsPerPeer = try config.value(K.maxConnectionsPerPeer)
        registrationPageSize = try config.value(K.registrationPageSize)
        logLevel = try config.value(SharedKeys.logLevel)
        logFormat = try config.value(SharedKeys.logFormat)
    }

    /// `workerId`, or `advertisedHost:boundPort` (`[v6]:port` for an IPv6 literal) when none is configured.
    /// `advertisedHost` is the host the worker advertises, as chosen once at start.
    public func effectiveWorkerId(advertisedHost: String, boundPort: Int) -> String {
        workerId ?? HostPort(host: advertisedHost, port: boundPort).description
    }

    /// Loads and types a worker configuration (see `ConfigLoader.load`).
    public static func load(
        fileText: String? = nil, environment: [String: String] = [:],
        overrides: [String: String] = [:]
    ) throws(ConfigError) -> WorkerConfig {
        try WorkerConfig(
            ConfigLoader.load(
                role: .worker, fileText: fileText, environment: environment,
                overrides: overrides))
    }
}
