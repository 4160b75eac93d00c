import SluiceCore

extension MasterState {
    /// One shared folder of a worker lost for good, and the worker asked to adopt it.
    public struct Adoption: Sendable, Equatable {
        /// The lost worker and its folder.
        public var lostWorkerId: String
        public var folder: SharedFolder
        /// The worker asked to adopt it.
        public var adopterId: String
        /// True once the adopter reported every adopted file (its last `adoptPartitions` page).
        public var done: Bool
    }

    /// Whether a lost worker is lost for good: silent `workerAdoptionDelayMs` past its heartbeat time-out, or
    /// decommissioned (an operator took it out) and past its time-out.
    func isLostForGood(_ record: WorkerRecord, nowMs: UInt64) -> Bool {
        guard !record.alive else { return false }
        let lostAtMs = record.lastHeartbeatMs + settings.workerHeartbeatTimeoutMs
        if decommissioned.contains(record.address.workerId) { return nowMs >= lostAtMs }
        return nowMs >= lostAtMs + settings.workerAdoptionDelayMs
    }

    /// Orders the adoption of every shared folder of workers lost for good that has no adopter yet: the adopter
    /// is a placeable worker reporting a folder in the same shared directory (it mounts the file system there), the one
    /// with the most free space. An adopter lost before it finished is replaced, and so is one lost for good after.
    mutating func orderAdoptions(nowMs: UInt64) -> [MasterEvent] {
        var events: [MasterEvent] = []
        for (lostId, record) in workers.sorted(by: { $0.key < $1.key })
        where !record.sharedFolders.isEmpty && isLostForGood(record, nowMs: nowMs) {
            for folder in record.sharedFolders {
                if let current = adoptions[folder.path] {
                    let adopter = workers[current.adopterId]
                    let keeps =
                        current.done
                        ? adopter.map { !isLostForGood($0, nowMs: nowMs) } ?? false : adopter?.alive == true
                    if keeps { continue }
                }
                guard let adopterId = adopter(for: folder, excluding: lostId) else { continue }
                adoptions[folder.path] = Adoption(
                    lostWorkerId: lostId, folder: folder, adopterId: adopterId, done: false)
                events.append(.adoptionOrdered(lostWorkerId: lostId, adopterId: adopterId, path: folder.path))
            }
        }
        return events
    }

    private func adopter(for folder: SharedFolder, excluding lostId: String) -> String? {
        workers.values.filter { record in
            let id = record.address.workerId
            return id != lostId && record.alive && record.registrationComplete && !record.draining
                && !decommissioned.contains(id)
                && record.sharedFolders.contains { $0.directory == folder.directory && $0.path != folder.path }
        }
        .max { ($0.freeBytes, $1.address.workerId) < ($1.freeBytes, $0.address.workerId) }?
        .address.workerId
    }

    /// A worker (re)registers: the folders it adopted are asked of it again, since a restarted adopter holds only its
    /// own folders until it adopts them anew (one that still holds them reports them again at once).
    mutating func reorderAdoptions(by workerId: String) {
        for (path, adoption) in adoptions where adoption.adopterId == workerId && adoption.done {
            adoptions[path]?.done = false
        }
    }

    /// The adoptions a worker is asked to carry out (in every heartbeat answer until it reports them done).
    func adoptionOrders(for workerId: String) -> [AdoptionOrder] {
        adoptions.values.filter { !$0.done && $0.adopterId == workerId }
            .sorted { $0.folder.path < $1.folder.path }
            .map { AdoptionOrder(lostWorkerId: $0.lostWorkerId, folder: $0.folder) }
    }

    /// A page of the files a worker adopted: readers of each are pointed at the adopter from now on; the last page
    /// completes the adoption. An unknown or lost adopter is told to register again (its registration then reports
    /// the adopted files with the rest).
    public mutating func adoptPartitions(_ request: AdoptPartitionsRequest, nowMs: UInt64) -> StatusResponse {
        guard var record = workers[request.workerId], record.alive else {
            return StatusResponse(ResponseHead(.unknownWorker, "register again"))
        }
        record.lastHeartbeatMs = nowMs
        workers[request.workerId] = record
        for held in request.held where !isDeleted(held.shuffle) {
            adopt(held, workerId: request.workerId, nowMs: nowMs)
        }
        if request.last, var adoption = adoptions[request.folderPath], adoption.adopterId == request.workerId {
            adoption.done = true
            adoptions[request.folderPath] = adoption
        }
        return StatusResponse()
    }
}
