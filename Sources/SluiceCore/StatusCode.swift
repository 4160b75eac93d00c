/// Status codes carried in every response body (u16). Shared with the Java client: numbers never change.
public enum StatusCode: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    /// The request succeeded.
    case ok = 0
    /// The batch was stored, but the partition file passed its soft size limit: the client should revive
    /// the partition (new epoch) for its next batches.
    case softSplit = 1
    /// The batch was NOT stored: this location takes no more data (hard size limit, full or failing disk,
    /// or the worker is shutting down). The client must revive and resend elsewhere.
    case hardSplit = 2
    /// The batch was NOT stored: the worker is over its memory budget. Retry after a pause. Reserved: no server
    /// sends it today (a worker over its budget stops reading the connection instead: backpressure, not refusals),
    /// and clients keep treating it as "retry later" so a future server may.
    case congested = 3
    /// The frame or message could not be decoded. The connection is closed after this reply.
    case malformed = 10
    /// The frame was longer than the receiver's maximum. The connection is closed after this reply.
    case frameTooLarge = 11
    /// The protocol version in the handshake is not supported. The connection is closed after this reply.
    case unsupportedVersion = 12
    /// A request arrived before the handshake. The connection is closed after this reply.
    case handshakeRequired = 13
    /// The message type is unknown to the receiver.
    case unknownMessage = 14
    /// The peer did not prove a credential this server accepts (missing, wrong or for another cluster). The
    /// connection is closed after this reply. Not retried: the configuration must change.
    case unauthenticated = 15
    /// The peer's proven credential does not allow this request (another application's data, a worker's
    /// message from an application). Not retried.
    case forbidden = 16
    /// The application or shuffle is unknown (never registered, or deleted).
    case unknownShuffle = 20
    /// The partition location (partition, epoch, role) is unknown on this worker.
    case unknownPartition = 21
    /// The stream id is unknown or was closed.
    case unknownStream = 22
    /// The worker id is unknown to the master: the worker must register again.
    case unknownWorker = 23
    /// The master has no live worker to place a partition on.
    case noWorkers = 24
    /// The shuffle was unregistered (or its application ended): nothing more is stored for it. Not retried.
    case shuffleDeleted = 25
    /// Stored data failed its checksum or its header is invalid.
    case corrupt = 30
    /// The replica did not take the batch (dead, timed out or refused); nothing was acknowledged.
    case replicationFailed = 31
    /// A disk or other I/O operation failed on the server.
    case ioError = 32
    /// The server is shutting down and takes no new work.
    case shuttingDown = 33
    /// An invalid argument (e.g. a negative count or an out-of-range partition).
    case invalidArgument = 34
    /// A server limit on how many of something it holds (applications, shuffles of one application, workers) was
    /// reached: the request may succeed once others end. Clients do not retry it on their own.
    case limitExceeded = 35
    /// Any other failure; the message says what.
    case internalError = 99

    public var description: String {
        switch self {
        case .ok: "ok"
        case .softSplit: "soft-split"
        case .hardSplit: "hard-split"
        case .congested: "congested"
        case .malformed: "malformed"
        case .frameTooLarge: "frame-too-large"
        case .unsupportedVersion: "unsupported-version"
        case .handshakeRequired: "handshake-required"
        case .unknownMessage: "unknown-message"
        case .unauthenticated: "unauthenticated"
        case .forbidden: "forbidden"
        case .unknownShuffle: "unknown-shuffle"
        case .unknownPartition: "unknown-partition"
        case .unknownStream: "unknown-stream"
        case .unknownWorker: "unknown-worker"
        case .noWorkers: "no-workers"
        case .shuffleDeleted: "shuffle-deleted"
        case .corrupt: "corrupt"
        case .replicationFailed: "replication-failed"
        case .ioError: "io-error"
        case .shuttingDown: "shutting-down"
        case .invalidArgument: "invalid-argument"
        case .limitExceeded: "limit-exceeded"
        case .internalError: "internal-error"
        }
    }

    /// Decodes a status; unknown numbers map to `.internalError` so a newer peer never crashes an older one.
    public static func decode(_ raw: UInt16) -> StatusCode { StatusCode(rawValue: raw) ?? .internalError }
}
