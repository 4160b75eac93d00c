import SluiceCore

/// The worker's configuration, typed, with units in field names.
public struct WorkerConfig: Sendable, Equatable {
    /// Address to listen on.
    public var host: String
    /// Host the master gives clients and peers for reaching this worker.
    public var advertisedHost: String
    /// TCP port to listen on (0 = any free port).
    public var port: Int
    /// The master to register with.
    public var masterAddress: HostPort
    /// Configured identity; nil = derive with `effectiveWorkerId(boundPort:)`.
    public var workerId: String?
    /// Directory for partition files.
    public var storageDir: String
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
    /// Capacity of emptied flush buffers kept for reuse.
    public var flushBufferPoolBytes: Int
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
    /// Minimum log level.
    public var logLevel: LogLevel

    /// Builds the typed view of a worker configuration.
    public init(_ config: ResolvedConfig) throws(ConfigError) {
        typealias K = WorkerKeys
        host = try config.string(K.host)
        advertisedHost = try config.string(K.advertisedHost)
        port = try config.int(K.port)
        masterAddress = try config.hostPort(K.masterAddress)
        let id = try config.string(K.workerId)
        workerId = id.isEmpty ? nil : id
        storageDir = try config.string(K.storageDir)
        memoryBudgetBytes = try config.int(K.memoryBudget)
        memoryHighWatermarkFraction = try config.double(K.memoryHighWatermarkFraction)
        memoryLowWatermarkFraction = try config.double(K.memoryLowWatermarkFraction)
        flushBufferBytes = try config.int(K.flushBufferSize)
        chunkTargetBytes = try config.int(K.chunkTargetSize)
        partitionSoftLimitBytes = try config.int(K.partitionSoftLimit)
        partitionHardLimitBytes = try config.int(K.partitionHardLimit)
        fsyncOnFlush = try config.bool(K.fsyncOnFlush)
        recycledFilesMax = try config.int(K.recycledFilesMax)
        flushBufferPoolBytes = try config.int(K.flushBufferPoolSize)
        maxConnections = try config.int(K.maxConnections)
        maxFrameBodyBytes = try config.int(K.maxFrameBodySize)
        maxInFlightRequestsPerConnection = try config.int(K.maxInFlightRequestsPerConnection)
        idleTimeoutMs = try config.int(K.idleTimeout)
        replicationTimeoutMs = try config.int(K.replicationTimeout)
        replicaConnectionsPerPeer = try config.int(K.replicaConnectionsPerPeer)
        maxOpenStreamsPerConnection = try config.int(K.maxOpenStreamsPerConnection)
        let codecName = try config.string(K.fetchCompressionCodec)
        guard let codec = Codec(name: codecName) else {
            throw ConfigError(.invalidValue, key: K.fetchCompressionCodec.name,
                              source: config.source(of: K.fetchCompressionCodec), "unknown codec '\(codecName)'")
        }
        fetchCompressionCodec = codec
        heartbeatRetryIntervalMs = try config.int(K.heartbeatRetryInterval)
        shutdownGracePeriodMs = try config.int(K.shutdownGracePeriod)
        logLevel = try config.logLevel()
    }

    /// `workerId`, or `advertisedHost:boundPort` when none is configured.
    public func effectiveWorkerId(boundPort: Int) -> String {
        workerId ?? HostPort(host: advertisedHost, port: boundPort).description
    }

    /// Loads and types a worker configuration (see `ConfigLoader.load`).
    public static func load(fileText: String? = nil, environment: [String: String] = [:],
                            overrides: [String: String] = [:]) throws(ConfigError) -> WorkerConfig {
        try WorkerConfig(ConfigLoader.load(role: .worker, fileText: fileText, environment: environment,
                                           overrides: overrides))
    }
}
