import SluiceCore

extension MasterState {
    /// A worker (re)registers: it becomes alive, and every partition it reports is adopted into the tables
    /// unless its shuffle was deleted (the next heartbeat tells the worker to delete it). With `morePages` the rest of
    /// its report follows (`reportHeldPartitions`), and it gets no slots until the last page. A new worker beyond
    /// `maxWorkers` replaces the longest-lost one, or is refused (`limitExceeded`) when none is lost.
    public mutating func registerWorker(_ request: RegisterWorkerRequest, nowMs: UInt64) -> RegisterWorkerResponse {
        let id = request.address.workerId
        guard !id.isEmpty else {
            return RegisterWorkerResponse(
                head: ResponseHead(.invalidArgument, "empty worker id"), heartbeatIntervalMs: 0)
        }
        if workers[id] == nil, workers.count >= settings.limits.maxWorkers {
            guard let lost = longestLostWorker else {
                return RegisterWorkerResponse(
                    head: ResponseHead(
                        .limitExceeded, "the master knows master.maxWorkers (\(settings.limits.maxWorkers)) workers"),
                    heartbeatIntervalMs: 0)
            }
            workers[lost] = nil
            decommissioned.remove(lost)
        }
        workers[id] = WorkerRecord(
            address: request.address, capacityBytes: request.capacityBytes,
            freeBytes: request.freeBytes, lastHeartbeatMs: nowMs, draining: false, alive: true,
            httpPort: request.httpPort, registrationComplete: !request.morePages,
            sharedFolders: request.sharedFolders)
        for held in request.held where !isDeleted(held.shuffle) {
            adopt(held, workerId: id, nowMs: nowMs)
        }
        reorderAdoptions(by: id)
        return RegisterWorkerResponse(heartbeatIntervalMs: UInt32(clamping: settings.workerHeartbeatIntervalMs))
    }

    /// A further page of a worker's registration report: adopted like the first (twice changes nothing); the last
    /// page completes the registration. A worker the master does not know (or lost) is told to register again.
    public mutating func reportHeldPartitions(_ request: ReportHeldPartitionsRequest, nowMs: UInt64)
        -> StatusResponse
    {
        guard var record = workers[request.workerId], record.alive else {
            return StatusResponse(ResponseHead(.unknownWorker, "register again"))
        }
        record.lastHeartbeatMs = nowMs
        if request.last { record.registrationComplete = true }
        workers[request.workerId] = record
        for held in request.held where !isDeleted(held.shuffle) {
            adopt(held, workerId: request.workerId, nowMs: nowMs)
        }
        return StatusResponse()
    }

    /// The lost worker silent the longest, if any.
    var longestLostWorker: String? {
        workers.filter { !$0.value.alive }.min {
            ($0.value.lastHeartbeatMs, $0.key) < ($1.value.lastHeartbeatMs, $1.key)
        }?
        .key
    }

    /// A worker heartbeat: refreshes liveness and answers which of its shuffles to delete.
    /// An unknown or lost worker is told to register again (that is how a restarted master relearns).
    public mutating func workerHeartbeat(_ request: WorkerHeartbeatRequest, nowMs: UInt64) -> WorkerHeartbeatResponse {
        // A worker whose paged registration never completed registers again: pages of its report were lost.
        guard var record = workers[request.workerId], record.alive, record.registrationComplete else {
            return WorkerHeartbeatResponse(head: ResponseHead(.unknownWorker, "register again"))
        }
        record.lastHeartbeatMs = nowMs
        record.reportedFailed = false
        record.freeBytes = request.freeBytes
        record.tiers = request.tiers
        record.draining = request.draining
        workers[request.workerId] = record
        var toDelete: [ShuffleKey] = []
        var resync = false
        for key in request.shuffles {
            if isDeleted(key) {
                toDelete.append(key)
            } else if shuffles[key] == nil {
                resync = true  // the worker holds data we have not heard of: never delete a live application's data
            }
        }
        return WorkerHeartbeatResponse(
            resync: resync, shufflesToDelete: toDelete, decommissioned: decommissioned.contains(request.workerId),
            adoptions: adoptionOrders(for: request.workerId))
    }

    mutating func adopt(_ held: HeldPartition, workerId: String, nowMs: UInt64) {
        if applications[held.shuffle.applicationId] == nil {
            applications[held.shuffle.applicationId] = nowMs
        }
        // A rebuilt shuffle has numPartitions 0 (unknown): its table lists only partitions that hold data.
        var record =
            shuffles[held.shuffle]
            ?? ShuffleRecord(
                numMappers: 0, numPartitions: 0, replicate: false,
                partitions: [:])
        var epochs = record.partitions[held.partitionId] ?? []
        let index: Int
        if let existing = epochs.firstIndex(where: { $0.epoch == held.epoch }) {
            index = existing
        } else {
            epochs.append(EpochRecord(epoch: held.epoch, primaryWorkerId: nil, replicaWorkerId: nil))
            epochs.sort { $0.epoch < $1.epoch }
            index = epochs.firstIndex(where: { $0.epoch == held.epoch }) ?? epochs.count - 1
        }
        switch held.role {
        case .primary: epochs[index].primaryWorkerId = workerId
        case .replica: epochs[index].replicaWorkerId = workerId
        }
        record.partitions[held.partitionId] = epochs
        setShuffle(held.shuffle, record)
    }

    /// Marks workers silent past the time-out as lost, expires silent applications and purges old tombstones.
    public mutating func tick(nowMs: UInt64) -> [MasterEvent] {
        var events: [MasterEvent] = []
        for (id, record) in workers.sorted(by: { $0.key < $1.key })
        where record.alive && nowMs >= record.lastHeartbeatMs + settings.workerHeartbeatTimeoutMs {
            workers[id]?.alive = false
            events.append(.workerLost(workerId: id))
        }
        events += orderAdoptions(nowMs: nowMs)
        for (applicationId, last) in applications.sorted(by: { $0.key < $1.key })
        where nowMs >= last + settings.applicationTimeoutMs {
            let count = unregisterApplication(applicationId, nowMs: nowMs)
            events.append(.applicationExpired(applicationId: applicationId, shuffleCount: count))
        }
        let retention = settings.deletedShuffleRetentionMs
        deletedShuffles = deletedShuffles.filter { nowMs < $0.value + retention }
        deletedApplications = deletedApplications.filter { nowMs < $0.value + retention }
        return events
    }

    /// Workers that may receive new slots: alive, fully registered, not draining and not reported failed since their
    /// last heartbeat.
    /// When every such worker was reported, the reports are ignored: a burst of client errors must not leave a
    /// cluster of live workers with nowhere to place.
    public var slotCandidates: [SlotAllocator.Candidate] {
        let placeable = workers.values.filter {
            $0.alive && $0.registrationComplete && !$0.draining && !decommissioned.contains($0.address.workerId)
        }
        let trusted = placeable.filter { !$0.reportedFailed }
        return (trusted.isEmpty ? placeable : trusted)
            .map { SlotAllocator.Candidate(address: $0.address, freeBytes: $0.freeBytes, tiers: $0.tiers) }
    }

    /// An operator decommissions (true) or recommissions (false) a worker: it gets no new partitions at once, and
    /// hears on its next heartbeat that it should drain (or resume). Returns false for an unknown worker.
    public mutating func setDecommissioned(_ workerId: String, _ value: Bool) -> Bool {
        guard workers[workerId] != nil else { return false }
        if value { decommissioned.insert(workerId) } else { decommissioned.remove(workerId) }
        return true
    }

    /// A client could not use `workerId` (unreachable, refused, failed its replica): place nothing new there until
    /// it heartbeats again.
    mutating func reportFailed(_ workerId: String) {
        guard !workerId.isEmpty else { return }
        workers[workerId]?.reportedFailed = true
    }
}
