import SluiceConfig
import SluiceCore

/// The timing and placement settings the master's state machine needs. Built from a `MasterConfig` (the config
/// registry holds every default); tests give each value explicitly.
public struct MasterSettings: Sendable, Equatable {
    /// What the master tells workers to use as their heartbeat interval.
    public var workerHeartbeatIntervalMs: UInt64
    /// A worker silent this long is lost: no new slots; readers use replicas.
    public var workerHeartbeatTimeoutMs: UInt64
    /// An application with no heartbeat (from its driver) this long is expired and its shuffles deleted.
    public var applicationTimeoutMs: UInt64
    /// How long the master remembers deleted shuffles so every worker hears to delete them.
    public var deletedShuffleRetentionMs: UInt64

    public init(
        workerHeartbeatIntervalMs: UInt64, workerHeartbeatTimeoutMs: UInt64, applicationTimeoutMs: UInt64,
        deletedShuffleRetentionMs: UInt64
    ) {
        self.workerHeartbeatIntervalMs = workerHeartbeatIntervalMs
        self.workerHeartbeatTimeoutMs = workerHeartbeatTimeoutMs
        self.applicationTimeoutMs = applicationTimeoutMs
        self.deletedShuffleRetentionMs = deletedShuffleRetentionMs
    }
}

extension MasterSettings {
    /// The settings a deployed master runs with `config`.
    public init(_ config: MasterConfig) {
        self.init(
            workerHeartbeatIntervalMs: UInt64(clamping: config.workerHeartbeatIntervalMs),
            workerHeartbeatTimeoutMs: UInt64(clamping: config.workerHeartbeatTimeoutMs),
            applicationTimeoutMs: UInt64(clamping: config.applicationTimeoutMs),
            deletedShuffleRetentionMs: UInt64(clamping: config.deletedShuffleRetentionMs))
    }
}

extension MasterServer.Options {
    /// Expiry of lost workers and timed-out applications is checked at least this often, whatever
    /// `master.applicationCheckInterval` says, so a worker is declared lost within about a second of its time-out.
    public static let maxTickIntervalMs = 1_000

    /// The options a deployed master runs with `config`: every field from the config registry.
    public init(_ config: MasterConfig) {
        self.init(
            host: config.host, port: config.port, settings: MasterSettings(config),
            maxConnections: config.maxConnections, maxConnectionsPerPeer: config.maxConnectionsPerPeer,
            maxFrameBodyBytes: config.maxFrameBodyBytes,
            maxInFlightRequestsPerConnection: config.maxInFlightRequestsPerConnection,
            idleTimeoutMs: config.idleTimeoutMs,
            tickIntervalMs: max(1, min(config.applicationCheckIntervalMs, Self.maxTickIntervalMs)),
            http: config.http)
    }
}
