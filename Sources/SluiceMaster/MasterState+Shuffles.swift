import SluiceCore

/// The partitions of one shuffle registration placed on workers, computed outside the master's lock.
public struct ShufflePlacement: Sendable {
    /// Epoch 0 of every partition, by partition id.
    var epochs: [MasterState.EpochRecord]
    /// Every worker placed on.
    var workerIds: Set<String>
}

/// What a shuffle registration needs after the state was consulted.
public enum ShuffleAdmission: Sendable {
    /// Answered at once: the shuffle is known (its table), or the registration is refused.
    case answered(LocationsResponse)
    /// Place the partitions on these workers (`MasterState.place`, outside the lock), then `commitShuffle`.
    case place([SlotAllocator.Candidate])
}

extension MasterState {
    /// Registers a shuffle (idempotent) and returns the newest location of every partition: `admitShuffle`,
    /// `place` and `commitShuffle` in one step (the server runs the placement outside its lock).
    public mutating func registerShuffle(_ request: RegisterShuffleRequest, nowMs: UInt64) -> LocationsResponse {
        switch admitShuffle(request, nowMs: nowMs) {
        case .answered(let response): response
        case .place(let candidates):
            commitShuffle(request, Self.place(request, on: candidates), nowMs: nowMs)
        }
    }

    /// The first step of a registration: refuses one over a limit, answers a known shuffle with its table, and
    /// otherwise counts as the application's heartbeat and names the workers to place on.
    public mutating func admitShuffle(_ request: RegisterShuffleRequest, nowMs: UInt64) -> ShuffleAdmission {
        let key = request.shuffle
        if let refusal = sizeRefusal(request) { return .answered(LocationsResponse(head: refusal)) }
        if let record = shuffles[key], record.numPartitions != 0 {
            applicationHeartbeat(key.applicationId, nowMs: nowMs)
            return .answered(tableResponse(record))
        }
        if let refusal = countRefusal(key) { return .answered(LocationsResponse(head: refusal)) }
        applicationHeartbeat(key.applicationId, nowMs: nowMs)
        let candidates = slotCandidates
        guard !candidates.isEmpty else {
            return .answered(LocationsResponse(head: ResponseHead(.noWorkers, "no live worker to place partitions on")))
        }
        return .place(candidates)
    }

    /// Places every partition of `request` on `candidates`. Touches no state: the server runs it outside its lock,
    /// since a large shuffle on many workers takes milliseconds.
    public static func place(_ request: RegisterShuffleRequest, on candidates: [SlotAllocator.Candidate])
        -> ShufflePlacement
    {
        var allocator = SlotAllocator(candidates: candidates)
        var epochs: [EpochRecord] = []
        epochs.reserveCapacity(Int(request.numPartitions))
        for _ in 0..<request.numPartitions {
            guard let slot = allocator.next(replicate: request.replicate) else { break }
            epochs.append(
                EpochRecord(epoch: 0, primaryWorkerId: slot.primary.workerId, replicaWorkerId: slot.replica?.workerId))
        }
        return ShufflePlacement(epochs: epochs, workerIds: Set(candidates.map(\.address.workerId)))
    }

    /// The last step of a registration: adopts the placement for every partition with no location yet. A
    /// registration of the same shuffle that committed meanwhile wins; limits are checked again, and a placement on a
    /// worker forgotten meanwhile is made again here.
    public mutating func commitShuffle(
        _ request: RegisterShuffleRequest, _ placement: ShufflePlacement, nowMs: UInt64
    ) -> LocationsResponse {
        let key = request.shuffle
        if let record = shuffles[key], record.numPartitions != 0 { return tableResponse(record) }
        if let refusal = countRefusal(key) { return LocationsResponse(head: refusal) }
        var placement = placement
        if !placement.workerIds.allSatisfy({ workers[$0] != nil }) {
            let candidates = slotCandidates
            guard !candidates.isEmpty else {
                return LocationsResponse(head: ResponseHead(.noWorkers, "no live worker to place partitions on"))
            }
            placement = Self.place(request, on: candidates)
        }
        applicationHeartbeat(key.applicationId, nowMs: nowMs)
        deletedShuffles[key] = nil
        // A shuffle rebuilt from worker reports (after a master restart) keeps every epoch it has; only
        // partitions with no location yet get one.
        var record = shuffles[key] ?? ShuffleRecord(numMappers: 0, numPartitions: 0, replicate: false, partitions: [:])
        record.numMappers = request.numMappers
        record.numPartitions = request.numPartitions
        record.replicate = request.replicate
        record.partitions.reserveCapacity(Int(request.numPartitions))
        for (partitionId, epoch) in zip(0..<request.numPartitions, placement.epochs)
        where record.partitions[partitionId] == nil {
            record.partitions[partitionId] = [epoch]
        }
        setShuffle(key, record)
        return tableResponse(record)
    }

    /// Why a registration asks for more than any shuffle may have, if it does.
    func sizeRefusal(_ request: RegisterShuffleRequest) -> ResponseHead? {
        let limits = settings.limits
        if request.numPartitions > limits.maxPartitionsPerShuffle {
            return ResponseHead(
                .invalidArgument,
                "numPartitions \(request.numPartitions) exceeds master.maxPartitionsPerShuffle "
                    + "(\(limits.maxPartitionsPerShuffle))")
        }
        if request.numMappers > limits.maxMappersPerShuffle {
            return ResponseHead(
                .invalidArgument,
                "numMappers \(request.numMappers) exceeds master.maxMappersPerShuffle (\(limits.maxMappersPerShuffle))")
        }
        return nil
    }

    /// Why a new shuffle (of a new application, perhaps) is refused now, if it is.
    func countRefusal(_ key: ShuffleKey) -> ResponseHead? {
        if let refusal = applicationRefusal(key.applicationId) { return refusal }
        let limit = settings.limits.maxShufflesPerApplication
        guard shuffles[key] == nil, shuffleCounts[key.applicationId, default: 0] >= limit else { return nil }
        return ResponseHead(
            .limitExceeded, "application \(key.applicationId) has master.maxShufflesPerApplication (\(limit)) shuffles")
    }

    /// Why a new application is refused now, if it is.
    func applicationRefusal(_ applicationId: String) -> ResponseHead? {
        let limit = settings.limits.maxApplications
        guard applications[applicationId] == nil, applications.count >= limit else { return nil }
        return ResponseHead(.limitExceeded, "the master tracks master.maxApplications (\(limit)) applications")
    }

    /// Every epoch of every partition that has one (what a reader must read).
    public func locations(_ request: GetLocationsRequest) -> LocationsResponse {
        guard let record = shuffles[request.shuffle] else {
            return LocationsResponse(head: ResponseHead(.unknownShuffle, "unknown shuffle \(request.shuffle)"))
        }
        var table = LocationTable()
        for partitionId in record.partitions.keys.sorted() {
            for epoch in record.partitions[partitionId] ?? [] {
                if let location = location(partitionId, epoch), !table.append(location) { return tableOverflow }
            }
        }
        return LocationsResponse(table: table)
    }

    /// A location newer than `failedEpoch` for one partition, avoiding the failed worker.
    public mutating func revive(_ request: ReviveRequest, nowMs: UInt64) -> LocationsResponse {
        guard var record = shuffles[request.shuffle] else {
            return LocationsResponse(head: ResponseHead(.unknownShuffle, "unknown shuffle \(request.shuffle)"))
        }
        // A rebuilt shuffle (numPartitions 0: unknown) is bounded by the largest shuffle there may be.
        let partitionLimit = record.numPartitions != 0 ? record.numPartitions : settings.limits.maxPartitionsPerShuffle
        guard request.partitionId < partitionLimit else {
            return LocationsResponse(
                head: ResponseHead(
                    .invalidArgument, "partition \(request.partitionId) of a shuffle of \(partitionLimit) partitions"))
        }
        applications[request.shuffle.applicationId] = nowMs
        reportFailed(request.failedWorkerId)
        var epochs = record.partitions[request.partitionId] ?? []
        if let newest = epochs.last, newest.epoch > request.failedEpoch,
            let location = location(request.partitionId, newest),
            location.primary != nil
        {
            return LocationsResponse(table: LocationTable([location]))
        }
        let candidates = slotCandidates.filter { $0.address.workerId != request.failedWorkerId }
        var allocator = SlotAllocator(candidates: candidates)
        guard let slot = allocator.next(replicate: record.replicate || record.numPartitions == 0) else {
            return LocationsResponse(head: ResponseHead(.noWorkers, "no live worker other than the failed one"))
        }
        let nextEpoch = max((epochs.last?.epoch ?? 0) + 1, request.failedEpoch + 1)
        let created = EpochRecord(
            epoch: nextEpoch, primaryWorkerId: slot.primary.workerId,
            replicaWorkerId: slot.replica?.workerId)
        epochs.append(created)
        record.partitions[request.partitionId] = epochs
        setShuffle(request.shuffle, record)
        let location = PartitionLocation(
            partitionId: request.partitionId, epoch: nextEpoch, primary: slot.primary,
            replica: slot.replica)
        return LocationsResponse(table: LocationTable([location]))
    }

    /// Registers `applicationId` (or refreshes its heartbeat). With `onlyIfNew`, a known application is left alone.
    /// A new application beyond `maxApplications` is refused.
    public mutating func registerApplication(_ applicationId: String, onlyIfNew: Bool, nowMs: UInt64)
        -> ApplicationRegistration
    {
        if let refusal = applicationRefusal(applicationId) { return .refused(refusal) }
        let isNew = applications[applicationId] == nil
        guard isNew || !onlyIfNew else { return .alreadyKnown }
        applications[applicationId] = nowMs
        deletedApplications[applicationId] = nil
        return isNew ? .registered : .alreadyKnown
    }

    /// Records a driver heartbeat. A new application beyond `maxApplications` is refused (`limitExceeded`).
    @discardableResult
    public mutating func applicationHeartbeat(_ applicationId: String, nowMs: UInt64) -> StatusResponse {
        if let refusal = applicationRefusal(applicationId) { return StatusResponse(refusal) }
        applications[applicationId] = nowMs
        deletedApplications[applicationId] = nil
        return StatusResponse()
    }

    /// Forgets a shuffle; workers are told to delete its files on their next heartbeat. Unknown is fine.
    public mutating func unregisterShuffle(_ key: ShuffleKey, nowMs: UInt64) {
        setShuffle(key, nil)
        deletedShuffles[key] = nowMs
    }

    /// Forgets an application and all its shuffles. Returns how many shuffles it had.
    @discardableResult
    public mutating func unregisterApplication(_ applicationId: String, nowMs: UInt64) -> Int {
        let keys = shuffles.keys.filter { $0.applicationId == applicationId }
        for key in keys { unregisterShuffle(key, nowMs: nowMs) }
        applications[applicationId] = nil
        deletedApplications[applicationId] = nowMs
        return keys.count
    }

    /// The newest epoch of every partition.
    func tableResponse(_ record: ShuffleRecord) -> LocationsResponse {
        var table = LocationTable()
        for partitionId in record.partitions.keys.sorted() {
            if let newest = record.partitions[partitionId]?.last, let location = location(partitionId, newest),
                !table.append(location)
            {
                return tableOverflow
            }
        }
        return LocationsResponse(table: table)
    }

    /// A table naming more workers than it can index; `maxWorkers` keeps the master below that.
    var tableOverflow: LocationsResponse {
        LocationsResponse(
            head: ResponseHead(.internalError, "location table over \(LocationTable.maxWorkers) workers"))
    }
}

/// The outcome of `MasterState.registerApplication`.
public enum ApplicationRegistration: Sendable, Equatable {
    /// The application was not known and is now.
    case registered
    /// The application was already known (its heartbeat was refreshed unless only new ones were asked for).
    case alreadyKnown
    /// Refused (a limit): the head says why.
    case refused(ResponseHead)
}
