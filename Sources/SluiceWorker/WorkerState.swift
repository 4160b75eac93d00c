import SluiceCore

/// The worker's control-plane state as a value with no I/O, like `MasterState`: registration with the master,
/// draining, and the shuffles the master had deleted. Each event returns what the shell (`MasterLink`,
/// `WorkerServer`) must do next, so the worker's lifecycle is tested without sockets or sleeps.
public struct WorkerState: Sendable {
    /// Something the shell must do.
    public enum Directive: Sendable, Equatable {
        /// Register with the master, reporting every partition file held.
        case register
        /// Send a heartbeat.
        case heartbeat
        /// Send a heartbeat now rather than at the next interval (the master must learn of a change at once).
        case heartbeatNow
        /// Delete this shuffle's files.
        case deleteShuffle(ShuffleKey)
        /// Wait this long before the next round.
        case wait(milliseconds: Int)
    }

    /// Why a push is refused before anything is stored, if it is.
    public enum PushRefusal: Sendable, Equatable {
        /// The worker is draining: the client revives elsewhere.
        case draining
        /// The shuffle was deleted on the master's word; `firstRefusal` is true once per shuffle (log it then).
        case deleted(firstRefusal: Bool)

        /// The status every entry of the refused push gets.
        public var status: StatusCode {
            switch self {
            case .draining: .shuttingDown
            case .deleted: .shuffleDeleted
            }
        }
    }

    /// True while the master has acknowledged a registration on the current connection.
    public private(set) var isRegistered = false
    /// True once a shutdown drain began (SIGTERM): for good.
    public private(set) var isShuttingDown = false
    /// True while the master says an operator decommissioned this worker.
    public private(set) var isDecommissionedByMaster = false
    /// True while an operator decommissioned this worker through its own API.
    public private(set) var isDecommissionedLocally = false
    /// True while draining for any reason: new pushes are refused and the master gives no new slots; reads go on.
    public var isDraining: Bool { isShuttingDown || isDecommissionedByMaster || isDecommissionedLocally }
    /// The heartbeat interval the master gave at registration.
    public private(set) var heartbeatIntervalMs: Int
    /// How long to wait before trying an unreachable master again (`worker.heartbeatRetryInterval`).
    public let retryIntervalMs: Int
    /// Deleted shuffles are remembered up to this many; then the record starts over (it only needs to outlive the
    /// pushes in flight when the deletion arrived).
    public let deletedShufflesMax: Int
    /// Shuffles deleted on the master's word, and whether a push to each was refused (and logged) already.
    private var deletedShuffles: [ShuffleKey: Bool] = [:]

    /// Heartbeat intervals shorter than this, whatever the master says, are raised to it.
    public static let heartbeatIntervalMinMs = 10

    public init(retryIntervalMs: Int, deletedShufflesMax: Int = 100_000) {
        self.retryIntervalMs = retryIntervalMs
        self.deletedShufflesMax = max(deletedShufflesMax, 1)
        heartbeatIntervalMs = retryIntervalMs
    }

    /// What the next round of the master link does: register until the master acknowledges, then heartbeat.
    public var nextRound: Directive { isRegistered ? .heartbeat : .register }

    /// A new connection to the master: nothing is registered on it yet.
    public mutating func connectionOpened() {
        isRegistered = false
    }

    /// The master accepted a registration. Returns how long to wait before the first heartbeat.
    public mutating func registrationAccepted(heartbeatIntervalMs interval: UInt32) -> Directive {
        isRegistered = true
        heartbeatIntervalMs = max(Int(interval), Self.heartbeatIntervalMinMs)
        return .wait(milliseconds: heartbeatIntervalMs)
    }

    /// The master answered a heartbeat: register again when it does not know this worker (it restarted, or declared
    /// the worker lost) or asks for a resync; else delete what it names, then wait one interval.
    public mutating func heartbeatAnswered(_ reply: WorkerHeartbeatResponse) -> [Directive] {
        if reply.head.status == .unknownWorker || reply.resync {
            isRegistered = false
            return [.register]
        }
        guard reply.head.status == .ok else { return masterUnreachable() }
        let wasDraining = isDraining
        isDecommissionedByMaster = reply.decommissioned
        // A changed drain is reported at once, so the master's view (and placement) follows without an interval.
        let report: [Directive] = wasDraining != isDraining ? [.heartbeatNow] : []
        return reply.shufflesToDelete.map { shuffleDeleted($0) } + report + [.wait(milliseconds: heartbeatIntervalMs)]
    }

    /// The master could not be reached or refused: drop the registration (the next connection registers again) and
    /// try again after the retry interval.
    public mutating func masterUnreachable() -> [Directive] {
        isRegistered = false
        return [.wait(milliseconds: retryIntervalMs)]
    }

    /// A drain begins (SIGTERM): refuse new pushes, and tell the master at once, not at the next heartbeat.
    public mutating func beginDraining() -> [Directive] {
        let wasDraining = isDraining
        isShuttingDown = true
        return wasDraining ? [] : [.heartbeatNow]
    }

    /// An operator decommissioned (true) or recommissioned (false) this worker through its own API: drain or
    /// resume, and tell the master at once. A shutdown drain is not undone.
    public mutating func setLocallyDecommissioned(_ decommissioned: Bool) -> [Directive] {
        let wasDraining = isDraining
        isDecommissionedLocally = decommissioned
        return wasDraining != isDraining ? [.heartbeatNow] : []
    }

    /// The master named a shuffle to delete: remember it so late pushes are refused, never stored again.
    public mutating func shuffleDeleted(_ shuffle: ShuffleKey) -> Directive {
        if deletedShuffles.count >= deletedShufflesMax && deletedShuffles[shuffle] == nil { deletedShuffles = [:] }
        if deletedShuffles[shuffle] == nil { deletedShuffles[shuffle] = false }
        return .deleteShuffle(shuffle)
    }

    /// Whether the shuffle was deleted on the master's word (and is still remembered).
    public func isDeleted(_ shuffle: ShuffleKey) -> Bool { deletedShuffles[shuffle] != nil }

    /// Why a push to `shuffle` is refused, if it is; records that a deleted shuffle's refusal was reported.
    public mutating func refusePush(to shuffle: ShuffleKey) -> PushRefusal? {
        if isDraining { return .draining }
        guard let reported = deletedShuffles[shuffle] else { return nil }
        deletedShuffles[shuffle] = true
        return .deleted(firstRefusal: !reported)
    }
}
