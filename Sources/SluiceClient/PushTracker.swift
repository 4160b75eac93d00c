import SluiceCore
import SluiceSystem
import Synchronization

/// One batch on its way to a worker, with how often it was sent.
struct OutgoingBatch: Sendable {
    var partitionId: UInt32
    var batch: Batch
    var attempts: Int
}

/// A batch a worker did not acknowledge, to be revived and resent by the writer's own thread.
struct FailedPush: Sendable {
    var outgoing: OutgoingBatch
    var epoch: UInt32
    var workerId: String
    var status: StatusCode
}

/// Tracks a writer's pushes in flight. Completion callbacks (on connection threads) only record outcomes
/// here; every retry and revive happens on the writer's thread, so a callback never blocks a connection.
final class PushTracker: Sendable {
    private struct State {
        var inFlight = 0
        var failed: [FailedPush] = []
        /// Partitions whose current epoch passed its soft limit (partition → epoch).
        var softSplits: [UInt32: UInt32] = [:]
        var acknowledgedBatches = 0
    }

    private let state = Mutex(State())
    private let changed = ConditionVariable()
    /// Where the buffers of acknowledged batches go back for reuse.
    private let spareBuffers: SpareBuffers?

    init(spareBuffers: SpareBuffers? = nil) {
        self.spareBuffers = spareBuffers
    }

    /// Waits until fewer than `limit` pushes are in flight, then takes a slot.
    func acquireSlot(limit: Int, timeoutMs: Int) throws {
        let ok = changed.wait(until: { self.state.withLock { $0.inFlight < limit } }, timeoutMs: timeoutMs)
        guard ok else { throw ClientError(.internalError, "no push slot freed within \(timeoutMs) ms") }
        state.withLock { $0.inFlight += 1 }
    }

    /// Records the answer to one push of `batches` and frees its slot. `suspects[i]` is the worker to avoid when
    /// batch `i` is revived: the replica when the primary reported `replicationFailed`, nobody ("") for a hard
    /// split, else the primary.
    func complete(_ batches: [OutgoingBatch], epochs: [UInt32], suspects: [String], statuses: [StatusCode]) {
        state.withLock { s in
            s.inFlight -= 1
            for (index, outgoing) in batches.enumerated() {
                let status = index < statuses.count ? statuses[index] : .internalError
                if status.isStored {
                    s.acknowledgedBatches += 1
                    if status == .softSplit { s.softSplits[outgoing.partitionId] = epochs[index] }
                } else {
                    s.failed.append(
                        FailedPush(
                            outgoing: outgoing, epoch: epochs[index], workerId: suspects[index],
                            status: status))
                }
            }
        }
        if let spareBuffers {
            for (index, outgoing) in batches.enumerated() where index < statuses.count && statuses[index].isStored {
                spareBuffers.give(outgoing.batch.payload)
            }
        }
        changed.broadcast()
    }

    /// Takes every recorded failure and soft split.
    func takeOutcomes() -> (failed: [FailedPush], softSplits: [UInt32: UInt32]) {
        state.withLock { s in
            defer {
                s.failed = []
                s.softSplits = [:]
            }
            return (s.failed, s.softSplits)
        }
    }

    var hasOutcomes: Bool { state.withLock { !$0.failed.isEmpty || !$0.softSplits.isEmpty } }
    var acknowledgedBatches: Int { state.withLock { $0.acknowledgedBatches } }

    /// Waits until nothing is in flight or an outcome needs the writer's attention.
    func waitForQuietOrOutcome(timeoutMs: Int) -> Bool {
        changed.wait(
            until: { self.state.withLock { $0.inFlight == 0 || !$0.failed.isEmpty || !$0.softSplits.isEmpty } },
            timeoutMs: timeoutMs)
    }

    var inFlight: Int { state.withLock { $0.inFlight } }
}
