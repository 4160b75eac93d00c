/// The master's configuration, typed, with units in field names.
public struct MasterConfig: Sendable, Equatable {
    /// Address to listen on.
    public var host: String
    /// TCP port to listen on (0 = any free port).
    public var port: Int
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
    /// Minimum log level.
    public var logLevel: LogLevel

    /// Builds the typed view of a master configuration.
    public init(_ config: ResolvedConfig) throws(ConfigError) {
        host = try config.string(MasterKeys.host)
        port = try config.int(MasterKeys.port)
        workerHeartbeatTimeoutMs = try config.int(MasterKeys.workerHeartbeatTimeout)
        workerHeartbeatIntervalMs = try config.int(MasterKeys.workerHeartbeatInterval)
        applicationTimeoutMs = try config.int(MasterKeys.applicationTimeout)
        applicationCheckIntervalMs = try config.int(MasterKeys.applicationCheckInterval)
        maxConnections = try config.int(MasterKeys.maxConnections)
        maxFrameBodyBytes = try config.int(MasterKeys.maxFrameBodySize)
        maxInFlightRequestsPerConnection = try config.int(MasterKeys.maxInFlightRequestsPerConnection)
        idleTimeoutMs = try config.int(MasterKeys.idleTimeout)
        deletedShuffleRetentionMs = try config.int(MasterKeys.deletedShuffleRetention)
        logLevel = try config.logLevel()
    }

    /// Loads and types a master configuration (see `ConfigLoader.load`).
    public static func load(fileText: String? = nil, environment: [String: String] = [:],
                            overrides: [String: String] = [:]) throws(ConfigError) -> MasterConfig {
        try MasterConfig(ConfigLoader.load(role: .master, fileText: fileText, environment: environment,
                                           overrides: overrides))
    }
}

extension ResolvedConfig {
    func logLevel() throws(ConfigError) -> LogLevel {
        let text = try string(SharedKeys.logLevel)
        guard let level = LogLevel(rawValue: text) else {
            throw ConfigError(.invalidValue, key: SharedKeys.logLevel.name, source: source(of: SharedKeys.logLevel),
                              "invalid log level '\(text)'")
        }
        return level
    }
}
