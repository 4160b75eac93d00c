import SluiceCore

extension MasterState {
    /// Registers a shuffle (idempotent) and returns the newest location of every partition.
    public mutating func registerShuffle(_ request: RegisterShuffleRequest, nowMs: UInt64) -> LocationsResponse {
        let key = request.shuffle
        applications[key.applicationId] = nowMs
        deletedApplications[key.applicationId] = nil
        if let record = shuffles[key], record.numPartitions != 0 {
            return LocationsResponse(table: newestTable(record))
        }
        deletedShuffles[key] = nil
        var allocator = SlotAllocator(candidates: slotCandidates)
        guard !allocator.isEmpty else {
            return LocationsResponse(head: ResponseHead(.noWorkers, "no live worker to place partitions on"))
        }
        // A shuffle rebuilt from worker reports (after a master restart) keeps every epoch it has; only
        // partitions with no location yet get one.
        var record = shuffles[key] ?? ShuffleRecord(numMappers: 0, numPartitions: 0, replicate: false, partitions: [:])
        record.numMappers = request.numMappers
        record.numPartitions = request.numPartitions
        record.replicate = request.replicate
        record.partitions.reserveCapacity(Int(request.numPartitions))
        for partitionId in 0..<request.numPartitions where record.partitions[partitionId] == nil {
            guard let slot = allocator.next(replicate: request.replicate) else { break }
            record.partitions[partitionId] = [
                EpochRecord(
                    epoch: 0, primaryWorkerId: slot.primary.workerId,
                    replicaWorkerId: slot.replica?.workerId)
            ]
        }
        shuffles[key] = record
        return LocationsResponse(table: newestTable(record))
    }

    /// Every epoch of every partition that has one (what a reader must read).
    public func locations(_ request: GetLocationsRequest) -> LocationsResponse {
        guard let record = shuffles[request.shuffle] else {
            return LocationsResponse(head: ResponseHead(.unknownShuffle, "unknown shuffle \(request.shuffle)"))
        }
        var table = LocationTable()
        for partitionId in record.partitions.keys.sorted() {
            for epoch in record.partitions[partitionId] ?? [] {
                if let location = location(partitionId, epoch) { table.append(location) }
            }
        }
        return LocationsResponse(table: table)
    }

    /// A location newer than `failedEpoch` for one partition, avoiding the failed worker.
    public mutating func revive(_ request: ReviveRequest, nowMs: UInt64) -> LocationsResponse {
        guard var record = shuffles[request.shuffle] else {
            return LocationsResponse(head: ResponseHead(.unknownShuffle, "unknown shuffle \(request.shuffle)"))
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
        shuffles[request.shuffle] = record
        let location = PartitionLocation(
            partitionId: request.partitionId, epoch: nextEpoch, primary: slot.primary,
            replica: slot.replica)
        return LocationsResponse(table: LocationTable([location]))
    }

    /// Records a driver heartbeat.
    /// Registers `applicationId` (or refreshes its heartbeat). With `onlyIfNew`, a known application is left alone
    /// and false returned. True when it was not known.
    public mutating func registerApplication(_ applicationId: String, onlyIfNew: Bool, nowMs: UInt64) -> Bool {
        let isNew = applications[applicationId] == nil
        if isNew || !onlyIfNew { applications[applicationId] = nowMs }
        return isNew
    }

    public mutating func applicationHeartbeat(_ applicationId: String, nowMs: UInt64) {
        applications[applicationId] = nowMs
        deletedApplications[applicationId] = nil
    }

    /// Forgets a shuffle; workers are told to delete its files on their next heartbeat. Unknown is fine.
    public mutating func unregisterShuffle(_ key: ShuffleKey, nowMs: UInt64) {
        shuffles[key] = nil
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

    func newestTable(_ record: ShuffleRecord) -> LocationTable {
        var table = LocationTable()
        for partitionId in record.partitions.keys.sorted() {
            if let newest = record.partitions[partitionId]?.last, let location = location(partitionId, newest) {
                table.append(location)
            }
        }
        return table
    }
}
