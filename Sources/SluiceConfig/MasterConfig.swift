/// The master's configuration, typed, with units in field names.
public struct MasterConfig: Sendable, Equatable {
    /// Address to listen on.
    public var host: String
    /// TCP port to listen on (0 = any free port).
    public var port: Int
    /// The operations API.
    public var http: HTTPSettings
    /// A worker silent for this long is declared lost.
    public var workerHeartbeatTimeoutMs: Int
    /// Heartbeat interval told to workers at registration.
    public var workerHeartbeatIntervalMs: Int
    /// An application silent for this long is presumed dead.
    public var applicationTimeoutMs: Int
    /// How often timed-out applications and lost workers are looked for.
    public var applicationCheckIntervalMs: Int
    /// Maximum concurrent connections.
    public var maxConnections: Int
    /// Maximum frame body accepted.
    public var maxFrameBodyBytes: Int
    /// A connection is not read while this many of its requests await an answer.
    public var maxInFlightRequestsPerConnection: Int
    /// Idle connections are closed after this long (0 = never).
    public var idleTimeoutMs: Int
    /// How long tombstones of unregistered shuffles are kept.
    public var deletedShuffleRetentionMs: Int
    /// A lost worker silent this long past its time-out is lost for good: its fsx files are adopted.
    public var workerAdoptionDelayMs: Int
    /// The cluster secret and whether peers must authenticate.
    public var auth: AuthSettings
    /// Connections one remote IP address may hold open at once.
    public var maxConnectionsPerPeer: Int
    /// Largest numPartitions of a registered shuffle.
    public var maxPartitionsPerShuffle: Int
    /// Largest numMappers of a registered shuffle.
    public var maxMappersPerShuffle: Int
    /// Live applications tracked at once.
    public var maxApplications: Int
    /// Registered shuffles of one application at once.
    public var maxShufflesPerApplication: Int
    /// Workers known at once (lost ones included).
    public var maxWorkers: Int
    /// Minimum log level.
    public var logLevel: LogLevel
    /// `text` or `json` log lines.
    public var logFormat: String

    /// Builds the typed view of a master configuration.
    public init(_ config: ResolvedConfig) throws(ConfigError) {
        host = try config.value(MasterKeys.host)
        port = try config.value(MasterKeys.port)
        http = try HTTPSettings(config, port: MasterKeys.httpPort)
        workerHeartbeatTimeoutMs = try config.value(MasterKeys.workerHeartbeatTimeout)
        workerHeartbeatIntervalMs = try config.value(MasterKeys.workerHeartbeatInterval)
        applicationTimeoutMs = try config.value(MasterKeys.applicationTimeout)
        applicationCheckIntervalMs = try config.value(MasterKeys.applicationCheckInterval)
        maxConnections = try config.value(MasterKeys.maxConnections)
        maxFrameBodyBytes = try config.value(MasterKeys.maxFrameBodySize)
        maxInFlightRequestsPerConnection = try config.value(MasterKeys.maxInFlightRequestsPerConnection)
        idleTimeoutMs = try config.value(MasterKeys.idleTimeout)
        deletedShuffleRetentionMs = try config.value(MasterKeys.deletedShuffleRetention)
        workerAdoptionDelayMs = try config.value(MasterKeys.workerAdoptionDelay)
        auth = try AuthSettings(config)
        maxConnectionsPerPeer = try config.value(MasterKeys.maxConnectionsPerPeer)
        maxPartitionsPerShuffle = try config.value(MasterKeys.maxPartitionsPerShuffle)
        maxMappersPerShuffle = try config.value(MasterKeys.maxMappersPerShuffle)
        maxApplications = try config.value(MasterKeys.maxApplications)
        maxShufflesPerApplication = try config.value(MasterKeys.maxShufflesPerApplication)
        maxWorkers = try config.value(MasterKeys.maxWorkers)
        logLevel = try config.value(SharedKeys.logLevel)
        logFormat = try config.value(SharedKeys.logFormat)
    }

    /// Loads and types a master configuration (see `ConfigLoader.load`).
    public static func load(
        fileText: String? = nil, environment: [String: String] = [:],
        overrides: [String: String] = [:]
    ) throws(ConfigError) -> MasterConfig {
        try MasterConfig(
            ConfigLoader.load(
                role: .master, fileText: fileText, environment: environment,
                overrides: overrides))
    }
}
