import Logging
import SluiceCore
import SluiceNet
import SluiceStorage
import SluiceSystem
import Synchronization

/// The shell around the worker's `WorkerState` towards the master, on its own thread: registers (with everything it
/// holds), heartbeats at the interval the master gives, registers again when the master asks (unknown worker after a
/// master restart, or resync), deletes shuffles the master names, and reconnects after failures.
final class MasterLink: Sendable {
    unowned let worker: WorkerServer
    let address: WorkerAddress
    /// The connection to the master; registration and the rest of the lifecycle live in the worker's `WorkerState`.
    private let connection = Mutex<FrameClient?>(nil)
    private let thread = PeriodicThread()

    init(worker: WorkerServer, address: WorkerAddress) {
        self.worker = worker
        self.address = address
    }

    func start() throws {
        try thread.start { [self] in beatOrBackOff() }
    }

    /// Heartbeats at once (a change the master must know now, such as draining) instead of at the next interval.
    func beatNow() {
        thread.runNow()
    }

    /// Stops the loop and waits for it (bounded), closing the master connection.
    func stop() {
        thread.requestStop()
        connection.withLock { $0 }?.close()
        thread.stop()
    }

    /// One round; returns the milliseconds until the next.
    private func beatOrBackOff() -> Int {
        do {
            return try round()
        } catch {
            guard !thread.isStopping else { return 0 }
            worker.logger.warning(
                "master unreachable",
                metadata: [
                    "master": "\(worker.config.masterAddress)",
                    "error": "\(error)",
                ])
            connection.withLock { client in
                defer { client = nil }
                return client
            }?.close()
            return perform(worker.state.withLock { $0.masterUnreachable() })
        }
    }

    private func connectedClient() throws -> FrameClient {
        guard !thread.isStopping else { throw NetError.connectionClosed("master link", "stopping") }
        if let client = connection.withLock({ $0 }), client.isConnected { return client }
        let master = worker.config.masterAddress
        let client = try FrameClient.connect(
            host: master.host, port: master.port, role: .worker,
            identity: address.workerId, credential: worker.config.auth.secret?.workerCredential,
            config: FrameClientConfig(requestTimeoutMs: 30_000))
        connection.withLock { $0 = client }
        worker.state.withLock { $0.connectionOpened() }
        return client
    }

    /// One round: register or heartbeat, as the state says; act on the reply.
    private func round() throws -> Int {
        let client = try connectedClient()
        guard worker.state.withLock({ $0.nextRound }) == .heartbeat else { return try register(client) }
        let request = WorkerHeartbeatRequest(
            workerId: address.workerId, freeBytes: freeBytes(),
            draining: worker.isDraining, shuffles: worker.store.heldShuffles(), tiers: worker.store.tierSpace())
        let reply = try WorkerHeartbeatResponse.decode(
            body: try client.call(
                type: .workerHeartbeat,
                body: request.encoded()
            ).body)
        if reply.head.status != .unknownWorker { try reply.head.requireOK() }
        if !reply.adoptions.isEmpty { try adopt(reply.adoptions, client: client) }
        let directives = worker.state.withLock { $0.heartbeatAnswered(reply) }
        if directives.contains(.register) {
            worker.logger.info(
                "master asked to register again",
                metadata: [
                    "status": "\(reply.head.status)",
                    "resync": "\(reply.resync)",
                ])
            return try register(client)
        }
        return perform(directives)
    }

    /// Carries out directives that need no master round trip; returns the wait they ask for.
    private func perform(_ directives: [WorkerState.Directive]) -> Int {
        var waitMs = 0
        var beatNow = false
        for directive in directives {
            switch directive {
            case .deleteShuffle(let shuffle): worker.deleteShuffleFiles(shuffle)
            case .wait(let milliseconds): waitMs = milliseconds
            case .heartbeatNow: beatNow = true
            case .register, .heartbeat: break
            }
        }
        return beatNow ? 0 : waitMs
    }

    /// Registers, reporting what the worker holds in pages of `worker.registrationPageSize` partitions: the first
    /// in `registerWorker`, the rest in `reportHeldPartitions`, in order on this connection. The registration counts
    /// only once the last page is answered; a failure midway starts over on a new connection.
    private func register(_ client: FrameClient) throws -> Int {
        let held = worker.store.heldPartitions().map(\.reported)
        let pageSize = max(worker.config.registrationPageSize, 1)
        let pageStarts = Array(stride(from: 0, to: max(held.count, 1), by: pageSize))
        let space = try? worker.store.diskSpace()
        let request = RegisterWorkerRequest(
            address: address, httpPort: UInt16(clamping: worker.httpPort ?? 0),
            capacityBytes: UInt64(space?.capacityBytes ?? 0),
            freeBytes: UInt64(space?.freeBytes ?? 0), held: Array(held.prefix(pageSize)),
            morePages: pageStarts.count > 1, sharedFolders: worker.store.sharedFolders())
        let reply = try RegisterWorkerResponse.decode(
            body: try client.call(
                type: .registerWorker,
                body: request.encoded()
            ).body)
        try reply.head.requireOK()
        for (index, start) in pageStarts.enumerated().dropFirst() {
            let page = ReportHeldPartitionsRequest(
                workerId: address.workerId, last: index == pageStarts.count - 1,
                held: Array(held[start..<min(start + pageSize, held.count)]))
            let pageReply = try StatusResponse.decode(
                body: try client.call(type: .reportHeldPartitions, body: page.encoded()).body)
            try pageReply.head.requireOK()
        }
        let next = worker.state.withLock { $0.registrationAccepted(heartbeatIntervalMs: reply.heartbeatIntervalMs) }
        worker.logger.info(
            "registered with master",
            metadata: [
                "worker.id": "\(address.workerId)",
                "held.count": "\(held.count)",
                "pages": "\(pageStarts.count)",
            ])
        return perform([next])
    }

    private func freeBytes() -> UInt64 {
        UInt64((try? worker.store.diskSpace().freeBytes) ?? 0)
    }
}
