import SluiceCore

/// Decides, batch by batch, what a reader keeps, and at the end whether what it kept is complete.
/// Keeps only batches of the winning attempt of each map index in range, drops repeated
/// `(mapIndex, attemptId, sequence)` (retried pushes, or the same batch read again from a replica after a
/// fail-over), and at `finish()` requires, for each winning attempt, sequences `0...n` with `last` on `n`
/// — or nothing at all for a map whose output for this partition is empty.
public struct ReadFilter: Sendable {
    /// The winning attempt id per map index (from Spark's MapOutputTracker, or the Swift writer's commit).
    public let winners: [UInt32: UInt64]
    /// Map indexes whose output for this partition is known to be non-empty: a missing one is an error.
    public let nonEmptyMaps: Set<UInt32>

    private struct Progress: Sendable {
        var sequences: Set<UInt32> = []
        var lastSequence: UInt32?
    }

    private var progress: [UInt32: Progress] = [:]
    public private(set) var keptBatches = 0
    public private(set) var droppedLosingAttempt = 0
    public private(set) var droppedDuplicate = 0

    public init(winners: [UInt32: UInt64], nonEmptyMaps: Set<UInt32>) {
        self.winners = winners
        self.nonEmptyMaps = nonEmptyMaps
    }

    /// Whether to keep a batch whose checksum was verified. Call at most once per verified batch read.
    public mutating func accept(_ header: BatchHeader) -> Bool {
        guard let winner = winners[header.mapIndex], winner == header.attemptId else {
            droppedLosingAttempt += 1
            return false
        }
        var entry = progress[header.mapIndex] ?? Progress()
        guard entry.sequences.insert(header.sequence).inserted else {
            droppedDuplicate += 1
            return false
        }
        if header.isLast { entry.lastSequence = header.sequence }
        progress[header.mapIndex] = entry
        keptBatches += 1
        return true
    }

    /// Whether `finish()` would succeed.
    public var isComplete: Bool {
        do {
            try finish()
            return true
        } catch {
            return false
        }
    }

    /// Throws `ReadError.incomplete` unless every winning attempt that wrote anything is complete
    /// and every map in `nonEmptyMaps` wrote something.
    public func finish() throws(ReadError) {
        for mapIndex in winners.keys.sorted() {
            guard let entry = progress[mapIndex] else {
                if nonEmptyMaps.contains(mapIndex) {
                    throw ReadError.incomplete("map \(mapIndex): no batch of winning attempt \(winners[mapIndex] ?? 0)")
                }
                continue
            }
            guard let last = entry.lastSequence else {
                throw ReadError.incomplete(
                    "map \(mapIndex): the last batch never arrived (\(entry.sequences.count) seen)")
            }
            guard entry.sequences.count == Int(last) + 1, entry.sequences.allSatisfy({ $0 <= last }) else {
                let missing = (0...last).filter { !entry.sequences.contains($0) }.prefix(5)
                throw ReadError.incomplete("map \(mapIndex): missing batch sequences \(Array(missing)) of 0...\(last)")
            }
        }
    }
}

/// Why a partition could not be read completely. Never swallowed: a reader that throws returns no data.
public enum ReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Batches of a winning attempt are missing.
    case incomplete(String)
    /// Every copy of an epoch failed; the message lists what each copy answered.
    case unavailable(String)
    /// The master did not answer or refused.
    case master(String)

    public var description: String {
        switch self {
        case .incomplete(let detail): "incomplete partition: \(detail)"
        case .unavailable(let detail): "partition unavailable: \(detail)"
        case .master(let detail): "master: \(detail)"
        }
    }
}
