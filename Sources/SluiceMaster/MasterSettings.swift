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
    /// Bounds on what peers make the master hold.
    public var limits: MasterLimits
    /// A lost worker silent this long past its heartbeat time-out (at once when decommissioned) is lost for good:
    /// another worker adopts its shared (`fsx`) folders.
    public var workerAdoptionDelayMs: UInt64

    public init(
        workerHeartbeatIntervalMs: UInt64, workerHeartbeatTimeoutMs: UInt64, applicationTimeoutMs: UInt64,
        deletedShuffleRetentionMs: UInt64, limits: MasterLimits,
        workerAdoptionDelayMs: UInt64 = UInt64(MasterKeys.workerAdoptionDelay.defaultValue)
    ) {
        self.workerAdoptionDelayMs = workerAdoptionDelayMs
        self.workerHeartbeatIntervalMs = workerHeartbeatIntervalMs
        self.workerHeartbeatTimeoutMs = workerHeartbeatTimeoutMs
        self.applicationTimeoutMs = applicationTimeoutMs
        self.deletedShuffleRetentionMs = deletedShuffleRetentionMs
        self.limits = limits
    }
}

/// Bounds on what peers make the master hold (the `master.max*` keys): beyond them a request is refused with
/// `invalidArgument` (a shuffle too large ever to place) or `limitExceeded` (too many of something at once).
public struct MasterLimits: Sendable, Equatable {
    /// Largest numPartitions of a registered shuffle.
    public var maxPartitionsPerShuffle: UInt32
    /// Largest numMappers of a registered shuffle.
    public var maxMappersPerShuffle: UInt32
    /// Live applications tracked at once (ones relearned from worker reports are never refused).
    public var maxApplications: Int
    /// Registered shuffles of one application at once.
    public var maxShufflesPerApplication: Int
    /// Workers known at once, lost ones included; at most `LocationTable.maxWorkers`.
    public var maxWorkers: Int

    public init(
        maxPartitionsPerShuffle: UInt32, maxMappersPerShuffle: UInt32, maxApplications: Int,
        maxShufflesPerApplication: Int, maxWorkers: Int
    ) {
        self.maxPartitionsPerShuffle = maxPartitionsPerShuffle
        self.maxMappersPerShuffle = maxMappersPerShuffle
        self.maxApplications = maxApplications
        self.maxShufflesPerApplication = maxShufflesPerApplication
        self.maxWorkers = min(maxWorkers, LocationTable.maxWorkers)
    }
}

extension MasterLimits {
    /// The limits a deployed master runs with `config`.
    public init(_ config: MasterConfig) {
        self.init(
            maxPartitionsPerShuffle: UInt32(clamping: config.maxPartitionsPerShuffle),
            maxMappersPerShuffle: UInt32(clamping: config.maxMappersPerShuffle),
            maxApplications: config.maxApplications, maxShufflesPerApplication: config.maxShufflesPerApplication,
            maxWorkers: config.maxWorkers)
    }
}

extension MasterSettings {
    /// The settings a deployed master runs with `config`.
    public init(_ config: MasterConfig) {
        self.init(
            workerHeartbeatIntervalMs: UInt64(clamping: config.workerHeartbeatIntervalMs),
            workerHeartbeatTimeoutMs: UInt64(clamping: config.workerHeartbeatTimeoutMs),
            applicationTimeoutMs: UInt64(clamping: config.applicationTimeoutMs),
            deletedShuffleRetentionMs: UInt64(clamping: config.deletedShuffleRetentionMs),
            limits: MasterLimits(config), workerAdoptionDelayMs: UInt64(clamping: config.workerAdoptionDelayMs))
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
        auth = config.auth
    }
}
