import SluiceCore

/// The master's whole state as a value with no I/O: every event method takes the current time and returns
/// the reply (and what changed), so heartbeat expiry, placement, revive and cleanup are tested without
/// sockets or sleeps. The state is small and rebuildable: after a restart, workers re-register and report
/// what they hold (`registerWorker`), and the tables are rebuilt from that.
public struct MasterState: Sendable {
    /// A registered worker.
    public struct WorkerRecord: Sendable, Equatable {
        public var address: WorkerAddress
        public var capacityBytes: UInt64
        public var freeBytes: UInt64
        public var lastHeartbeatMs: UInt64
        public var draining: Bool
        /// False once the worker was silent past the heartbeat time-out; it gets no slots until it registers again.
        public var alive: Bool
        /// True once a client named this worker as failed in a revive: it gets no new slots until it heartbeats
        /// again. A live worker does so within one interval; a dead one never does, and is not placed on while
        /// its heartbeat time-out runs.
        public var reportedFailed = false
        /// The worker's operations API port (0: none reported).
        public var httpPort: UInt16 = 0
        /// False while a paged registration report is still arriving: the worker gets no slots until its last page.
        public var registrationComplete = true
        /// Room per storage tier, fastest first, from its last heartbeat (empty until then, or from older workers).
        public var tiers: [TierSpace] = []
        /// The worker's own folders in shared (`fsx`) directories: adopted by another worker once it is lost for good.
        public var sharedFolders: [SharedFolder] = []
    }

    /// One epoch of one partition, by worker id (either copy may be unknown after a rebuild).
    struct EpochRecord: Sendable, Equatable {
        var epoch: UInt32
        var primaryWorkerId: String?
        var replicaWorkerId: String?
    }

    /// A registered (or rebuilt) shuffle: its epochs per partition, newest last.
    struct ShuffleRecord: Sendable {
        var numMappers: UInt32
        var numPartitions: UInt32
        var replicate: Bool
        var partitions: [UInt32: [EpochRecord]]
    }

    public let settings: MasterSettings
    public internal(set) var workers: [String: WorkerRecord] = [:]
    /// Last heartbeat time per live application.
    public internal(set) var applications: [String: UInt64] = [:]
    /// Changed only through `setShuffle`, which keeps `shuffleCounts` with it.
    private(set) var shuffles: [ShuffleKey: ShuffleRecord] = [:]
    /// Registered (or rebuilt) shuffles per application, for `maxShufflesPerApplication`.
    private(set) var shuffleCounts: [String: Int] = [:]
    /// Workers an operator decommissioned (kept across their re-registrations; lost with a master restart).
    public internal(set) var decommissioned: Set<String> = []
    /// Deleted shuffles and when they were deleted, kept for `deletedShuffleRetentionMs`.
    public internal(set) var deletedShuffles: [ShuffleKey: UInt64] = [:]
    /// Deleted applications and when, kept for `deletedShuffleRetentionMs`.
    public internal(set) var deletedApplications: [String: UInt64] = [:]
    /// Shared folders of workers lost for good, by folder path: who adopts (or adopted) each.
    public internal(set) var adoptions: [String: Adoption] = [:]

    public init(settings: MasterSettings) {
        self.settings = settings
    }

    public var shuffleKeys: [ShuffleKey] { shuffles.keys.sorted() }

    func address(of workerId: String?) -> WorkerAddress? {
        workerId.flatMap { workers[$0]?.address }
    }

    func location(_ partitionId: UInt32, _ record: EpochRecord) -> PartitionLocation? {
        let primary = address(of: record.primaryWorkerId)
        let replica = address(of: record.replicaWorkerId)
        guard primary != nil || replica != nil else { return nil }
        return PartitionLocation(partitionId: partitionId, epoch: record.epoch, primary: primary, replica: replica)
    }

    /// Stores (or, with nil, forgets) a shuffle's record, counting the application's shuffles.
    mutating func setShuffle(_ key: ShuffleKey, _ record: ShuffleRecord?) {
        let existed: Bool
        if let record {
            existed = shuffles.updateValue(record, forKey: key) != nil
            if !existed { shuffleCounts[key.applicationId, default: 0] += 1 }
        } else {
            existed = shuffles.removeValue(forKey: key) != nil
            guard existed else { return }
            let left = shuffleCounts[key.applicationId, default: 1] - 1
            shuffleCounts[key.applicationId] = left > 0 ? left : nil
        }
    }

    func isDeleted(_ key: ShuffleKey) -> Bool {
        deletedShuffles[key] != nil || deletedApplications[key.applicationId] != nil
    }
}

/// Something the state machine did on its own (a tick), for the shell to log and count.
public enum MasterEvent: Sendable, Equatable {
    case workerLost(workerId: String)
    /// A worker lost for good: `adopterId` is asked to adopt its shared folder at `path`.
    case adoptionOrdered(lostWorkerId: String, adopterId: String, path: String)
    case applicationExpired(applicationId: String, shuffleCount: Int)
}
