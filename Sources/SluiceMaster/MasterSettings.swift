/// The timing and placement settings the master's state machine needs (filled from `MasterConfig`).
public struct MasterSettings: Sendable, Equatable {
    /// What the master tells workers to use as their heartbeat interval.
    public var workerHeartbeatIntervalMs: UInt64
    /// A worker silent this long is lost: no new slots; readers use replicas.
    public var workerHeartbeatTimeoutMs: UInt64
    /// An application with no heartbeat (from its driver) this long is expired and its shuffles deleted.
    public var applicationTimeoutMs: UInt64
    /// How long the master remembers deleted shuffles so every worker hears to delete them.
    public var deletedShuffleRetentionMs: UInt64

    public init(workerHeartbeatIntervalMs: UInt64 = 10_000, workerHeartbeatTimeoutMs: UInt64 = 60_000,
                applicationTimeoutMs: UInt64 = 300_000, deletedShuffleRetentionMs: UInt64 = 3_600_000) {
        self.workerHeartbeatIntervalMs = workerHeartbeatIntervalMs
        self.workerHeartbeatTimeoutMs = workerHeartbeatTimeoutMs
        self.applicationTimeoutMs = applicationTimeoutMs
        self.deletedShuffleRetentionMs = deletedShuffleRetentionMs
    }
}
