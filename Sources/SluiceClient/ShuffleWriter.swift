import SluiceCompression
import SluiceCore
import SluiceNet
import SluiceSystem

/// What a map task's writer reports when every batch is acknowledged: the raw bytes per partition
/// (Spark's MapStatus sizes) and the batch counts.
public struct MapWriteResult: Sendable, Equatable {
    public var partitionRawBytes: [UInt64]
    public var batchesPerPartition: [UInt32]
}

/// Writes one map task attempt's output: buffers records per partition, cuts compressed batches, merges small
/// batches for one worker into multi-partition pushes, keeps a bounded number of pushes in flight, revives a
/// partition whose location failed and resends there, and returns from `close()` only when every batch is
/// acknowledged by every copy. Used from one thread.
public final class ShuffleWriter {
    public let handle: ShuffleHandle
    public let mapIndex: UInt32
    public let attemptId: UInt64
    let config: ClientConfig
    let master: MasterClient
    let workers: FrameClientPool
    let tracker: PushTracker
    let spareBuffers: SpareBuffers
    private var current: [UInt32: PartitionLocation] = [:]
    /// The primary's endpoint per partition (indexed by partition id), kept with `current` so that a batch
    /// does not format it again.
    private var primaryEndpoints: [String?]
    /// Per partition (indexed by partition id): records not cut into a batch yet, whether `write` was called,
    /// the next batch sequence number, and the raw bytes written.
    private var buffers: [[UInt8]]
    private var touched: [Bool]
    private var nextSequence: [UInt32]
    private var rawBytes: [UInt64]
    private var pending: [String: (worker: WorkerAddress, batches: [OutgoingBatch], bytes: Int)] = [:]
    private let codecContext: CodecContext?
    private var closed = false

    init(
        handle: ShuffleHandle, mapIndex: UInt32, attemptId: UInt64, config: ClientConfig, master: MasterClient,
        workers: FrameClientPool
    ) {
        self.handle = handle
        self.mapIndex = mapIndex
        self.attemptId = attemptId
        self.config = config
        self.master = master
        self.workers = workers
        codecContext = try? CodecContext()
        spareBuffers = SpareBuffers(
            minimumCapacityBytes: config.pushBufferBytes + Self.bufferSlackBytes,
            maxCount: Self.maxSpareBuffers)
        tracker = PushTracker(spareBuffers: spareBuffers)
        let partitions = Int(handle.numPartitions)
        primaryEndpoints = Array(repeating: nil, count: partitions)
        buffers = Array(repeating: [], count: partitions)
        touched = Array(repeating: false, count: partitions)
        nextSequence = Array(repeating: 0, count: partitions)
        rawBytes = Array(repeating: 0, count: partitions)
        for location in handle.locations.locations { setLocation(location) }
    }

    /// Room beyond `pushBufferBytes` in a reused buffer: the write that fills a buffer may overshoot.
    static let bufferSlackBytes = 64 << 10
    /// Emptied buffers a writer keeps for reuse.
    static let maxSpareBuffers = 16

    /// Makes `location` the partition's current one (after a revive; tests call it to place a revive exactly).
    func setLocation(_ location: PartitionLocation) {
        current[location.partitionId] = location
        if Int(location.partitionId) < primaryEndpoints.count {
            primaryEndpoints[Int(location.partitionId)] = location.primary?.endpoint
        }
    }

    /// Appends record bytes to a partition; pushes a batch when the partition's buffer is full.
    public func write(partitionId: UInt32, bytes: some Collection<UInt8>) throws {
        precondition(!closed, "write after close")
        guard partitionId < handle.numPartitions else {
            throw ClientError(.invalidArgument, "partition \(partitionId) of \(handle.numPartitions)")
        }
        // Workers cannot check it (they never hear numMappers); readers drop the batches of maps the driver did not
        // list, so a writer out of range would lose its output silently.
        guard mapIndex < handle.numMappers else {
            throw ClientError(.invalidArgument, "map index \(mapIndex) of a shuffle of \(handle.numMappers) mappers")
        }
        let index = Int(partitionId)
        if buffers[index].capacity == 0 && nextSequence[index] > 0 {
            // A partition that already filled a batch will fill this one too: start from a full-size buffer.
            buffers[index] = spareBuffers.take()
        }
        buffers[index].append(contentsOf: bytes)
        touched[index] = true
        rawBytes[index] += UInt64(bytes.count)
        if buffers[index].count >= config.pushBufferBytes {
            try cut(partitionId, isLast: false)
        }
        if tracker.hasOutcomes { try handleOutcomes() }
    }

    /// Pushes what is left (marking each partition's last batch), waits for every acknowledgement, resending
    /// what failed, and returns the sizes for the map status.
    public func close() throws -> MapWriteResult {
        precondition(!closed, "close twice")
        closed = true
        // Every partition written to gets a last batch (possibly empty) that closes its sequence.
        for index in touched.indices where touched[index] {
            try cut(UInt32(index), isLast: true)
        }
        try sendAllPending()
        while true {
            _ = tracker.waitForQuietOrOutcome(timeoutMs: config.requestTimeoutMs)
            if tracker.hasOutcomes {
                try handleOutcomes()
                try sendAllPending()
                continue
            }
            if tracker.inFlight == 0 { break }
        }
        return MapWriteResult(partitionRawBytes: rawBytes, batchesPerPartition: nextSequence)
    }

    private func cut(_ partitionId: UInt32, isLast: Bool) throws {
        let index = Int(partitionId)
        let raw = buffers[index]
        buffers[index] = []
        let sequence = nextSequence[index]
        nextSequence[index] = sequence + 1
        let encoded = try BatchCodec.encode(
            raw: raw, codec: config.codec, mapIndex: mapIndex, attemptId: attemptId,
            sequence: sequence, isLast: isLast, context: codecContext)
        if config.codec != .none && !isLast {
            // A compressing codec stored a new array: the raw buffer is free for the partition's next batch.
            var reused = raw
            reused.removeAll(keepingCapacity: true)
            buffers[index] = reused
        }
        let batch = Batch(header: encoded.header, payload: encoded.stored[...])
        try enqueue(OutgoingBatch(partitionId: partitionId, batch: batch, attempts: 0))
    }

    private func enqueue(_ outgoing: OutgoingBatch) throws {
        guard let location = current[outgoing.partitionId], let primary = location.primary,
            let endpoint = primaryEndpoints[Int(outgoing.partitionId)]
        else {
            throw ClientError(
                .unknownPartition, "no location for partition \(outgoing.partitionId) of \(handle.shuffle)")
        }
        let size = outgoing.batch.encodedByteCount
        if Self.add(outgoing, bytes: size, to: &pending[endpoint, default: (primary, [], 0)]) >= config.mergedPushBytes
        {
            try send(endpoint: endpoint)
        }
    }

    /// Appends to a pending group in place (one dictionary access per batch); returns the group's bytes.
    private static func add(
        _ outgoing: OutgoingBatch, bytes: Int,
        to group: inout (worker: WorkerAddress, batches: [OutgoingBatch], bytes: Int)
    ) -> Int {
        group.batches.append(outgoing)
        group.bytes += bytes
        return group.bytes
    }

    /// Sends every pending group. Sending one may move batches into another group (see `send`), so this loops
    /// until nothing is pending; each batch moves at most once, since only this thread changes locations.
    private func sendAllPending() throws {
        while let endpoint = pending.keys.min() { try send(endpoint: endpoint) }
    }

    /// Sends the group pending for `endpoint` as one push. A batch whose partition was revived since it was
    /// queued (its primary is no longer `endpoint`) moves to its new primary's group instead: the epoch and
    /// replica in a push entry must always be those of the worker it is sent to. Sending it to the old primary
    /// with the new epoch would store it where no reader looks, and, when the old primary is the new replica,
    /// have that worker replicate to itself.
    private func send(endpoint: String) throws {
        guard let group = pending.removeValue(forKey: endpoint), !group.batches.isEmpty else { return }
        var batches: [OutgoingBatch] = []
        var entries: [PushEntry] = []
        var epochs: [UInt32] = []
        var replicaIds: [String?] = []
        batches.reserveCapacity(group.batches.count)
        for outgoing in group.batches {
            guard let location = current[outgoing.partitionId], let primary = location.primary,
                let target = primaryEndpoints[Int(outgoing.partitionId)]
            else {
                throw ClientError(
                    .unknownPartition, "no location for partition \(outgoing.partitionId) of \(handle.shuffle)")
            }
            guard target == endpoint else {
                _ = Self.add(
                    outgoing, bytes: outgoing.batch.encodedByteCount, to: &pending[target, default: (primary, [], 0)])
                continue
            }
            batches.append(outgoing)
            epochs.append(location.epoch)
            replicaIds.append(location.replica?.workerId)
            entries.append(
                PushEntry(
                    partitionId: outgoing.partitionId, epoch: location.epoch,
                    replica: location.replica, batch: outgoing.batch))
        }
        guard !batches.isEmpty else { return }
        let push = PushRequest(shuffle: handle.shuffle, role: .primary, entries: entries)
        try tracker.acquireSlot(limit: config.maxInFlightPushesTotal, timeoutMs: config.requestTimeoutMs)
        let tracker = self.tracker
        let sentBatches = batches
        let sentEpochs = epochs
        let primaryId = group.worker.workerId
        let primaryOnly = Array(repeating: primaryId, count: batches.count)
        let sentReplicaIds = replicaIds
        // A hard split blames nobody: a full file or directory is not a failed worker, and excluding healthy
        // workers from placement would leave a revived location without a replica.
        let suspectsByStatus: @Sendable ([StatusCode]) -> [String] = { statuses in
            statuses.enumerated().map { index, status in
                switch status {
                case .replicationFailed: sentReplicaIds[index] ?? primaryId
                case .hardSplit: ""
                default: primaryId
                }
            }
        }
        let recordStatuses = config.pushStatusRecorder
        let client: FrameClient
        do {
            client = try workers.client(host: group.worker.host, port: Int(group.worker.port))
        } catch {
            let statuses = [StatusCode](repeating: .ioError, count: batches.count)
            recordStatuses?(statuses)
            tracker.complete(batches, epochs: epochs, suspects: primaryOnly, statuses: statuses)
            return
        }
        let pool = workers
        let body = push.encodedParts()
        let recordLatency = config.pushLatencyRecorder
        let sentAtNs = recordLatency == nil ? 0 : Monotonic.nowNs()
        client.send(type: push.frameType, bodyParts: body, timeoutMs: config.requestTimeoutMs) { result in
            if let recordLatency { recordLatency(Monotonic.nowNs() &- sentAtNs) }
            switch result {
            case .success(let frame):
                let statuses =
                    (try? PushResponse.decode(body: frame.body))?.statuses(count: sentBatches.count)
                    ?? Array(repeating: .internalError, count: sentBatches.count)
                recordStatuses?(statuses)
                tracker.complete(
                    sentBatches, epochs: sentEpochs, suspects: suspectsByStatus(statuses), statuses: statuses)
            case .failure:
                // The primary itself did not answer: avoid it.
                pool.remove(endpoint: endpoint)
                let statuses = [StatusCode](repeating: .ioError, count: sentBatches.count)
                recordStatuses?(statuses)
                tracker.complete(sentBatches, epochs: sentEpochs, suspects: primaryOnly, statuses: statuses)
            }
        }
    }

    /// Revives partitions whose pushes failed or whose file passed its soft limit, and resends failed batches.
    private func handleOutcomes() throws {
        let (failed, softSplits) = tracker.takeOutcomes()
        for (partitionId, epoch) in softSplits.sorted(by: { $0.key < $1.key })
        where current[partitionId]?.epoch == epoch {
            setLocation(
                try master.revive(
                    handle.shuffle, partitionId: partitionId, failedEpoch: epoch,
                    failedWorkerId: ""))
        }
        for failure in failed {
            var outgoing = failure.outgoing
            outgoing.attempts += 1
            guard failure.status != .shuffleDeleted else {
                throw ClientError(
                    .shuffleDeleted,
                    "\(handle.shuffle) was deleted: worker \(failure.workerId) refused "
                        + "batch \(outgoing.batch.header.sequence) of map \(mapIndex) for partition "
                        + "\(outgoing.partitionId)")
            }
            // A credential problem does not heal by retrying elsewhere: fail now, naming it.
            guard failure.status != .forbidden && failure.status != .unauthenticated else {
                throw ClientError(
                    failure.status,
                    "worker \(failure.workerId) refused map \(mapIndex)'s pushes to \(handle.shuffle) "
                        + "(\(failure.status)): this client's credential does not allow them")
            }
            guard outgoing.attempts <= config.maxPushRetries else {
                throw ClientError(
                    failure.status,
                    "batch \(outgoing.batch.header.sequence) of map \(mapIndex) for "
                        + "partition \(outgoing.partitionId) failed \(outgoing.attempts) times")
            }
            if failure.status == .congested {
                // The worker is over its memory budget: give it time before resending to the same place.
                Self.pause(milliseconds: 10 << min(outgoing.attempts, 6))
            } else if current[outgoing.partitionId]?.epoch == failure.epoch {
                setLocation(
                    try master.revive(
                        handle.shuffle, partitionId: outgoing.partitionId,
                        failedEpoch: failure.epoch, failedWorkerId: failure.workerId))
            }
            try enqueue(outgoing)
        }
    }

    private static func pause(milliseconds: Int) {
        ConditionVariable().wait(until: { false }, timeoutMs: milliseconds)
    }
}
