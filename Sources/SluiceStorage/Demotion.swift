import SluiceCore
import Synchronization

/// A store that can move idle partition files from a directory above its tier's high watermark to a later tier.
/// The worker's background loop calls `demote` (tests call it directly, so nothing waits on a timer).
public protocol TierDemoting: Sendable {
    /// Moves idle files out of every directory above its high watermark until it is back under its low watermark,
    /// or until `maxBytes` of source files were moved, or until `pacer` says stop.
    func demote(maxBytes: Int, pacer: (any DemotionPacer)?) -> DemotionReport
}

/// Bounds how fast demotion copies: asked before each piece of a copy.
public protocol DemotionPacer: Sendable {
    /// Waits until `bytes` more may be copied; false means stop now (the move in progress is abandoned).
    func admit(bytes: Int) -> Bool
}

/// One file demotion moved.
public struct DemotedFile: Sendable, Equatable {
    /// The partition.
    public var key: PartitionFileKey
    /// Where it was: the directory, its tier's index and kind.
    public var fromDirectory: String
    public var fromTier: Int
    public var fromKind: String
    /// Where it is now.
    public var toDirectory: String
    public var toTier: Int
    /// Bytes of the file before the move, and of its new copy (smaller when batches were re-encoded).
    public var sourceBytes: Int
    public var movedBytes: Int
    /// Batches re-encoded to Zstandard on the way.
    public var reencodedBatches: Int
}

/// What one `demote` call did.
public struct DemotionReport: Sendable, Equatable {
    /// Files moved, in order.
    public var moved: [DemotedFile] = []
    /// Moves given up because the file changed under them (appended, deleted): it stays where it was.
    public var abandonedMoves = 0
    /// Moves that failed (I/O error, a copy that did not verify): the file stays where it was.
    public var failedMoves = 0
    /// True when the pacer said stop.
    public var stopped = false

    /// Creates an empty report.
    public init() {}

    /// Bytes of the files moved, as they were in their old directories.
    public var sourceBytes: Int { moved.reduce(0) { $0 + $1.sourceBytes } }
}

/// The store's demotion bookkeeping: one `demote` at a time, the directories being emptied down to their low
/// watermark, and files whose move failed lately (retried after another idle period).
final class DemotionState: Sendable {
    struct Bookkeeping {
        /// Directories that went above their high watermark and are not yet back under their low one.
        var draining: Set<String> = []
        /// When a file's move last failed (monotonic ms).
        var failedAtMs: [PartitionFileKey: UInt64] = [:]
    }

    /// Held for the whole of a `demote` call.
    let serial = Mutex(())
    let bookkeeping = Mutex(Bookkeeping())

    /// Whether demotion should take files out of `volume` now: above its high watermark, or still above its low
    /// one since it went past the high one.
    func shouldDrain(_ volume: Volume) -> Bool {
        bookkeeping.withLock { b in
            if volume.usedBytes > volume.highWatermarkBytes { b.draining.insert(volume.path) }
            if volume.usedBytes <= volume.lowWatermarkBytes { b.draining.remove(volume.path) }
            return b.draining.contains(volume.path)
        }
    }
}
