import Logging
import SluiceCore
import SluiceNet
import SluiceStorage
import Synchronization

/// Keeps a worker registered with the master on its own thread: registers (with everything it holds),
/// heartbeats at the interval the master gives, registers again when the master asks (unknown worker after a
/// master restart, or resync), deletes shuffles the master names, and reconnects after failures.
final class MasterLink: Sendable {
    private struct State: Sendable {
        var client: FrameClient?
        var registered = false
        var heartbeatIntervalMs = 1_000
    }

    private unowned let worker: WorkerServer
    private let address: WorkerAddress
    private let state = Mutex(State())
    private let thread = PeriodicThread()

    init(worker: WorkerServer, address: WorkerAddress) {
        self.worker = worker
        self.address = address
    }

    var isRegistered: Bool { state.withLock { $0.registered } }

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
        let client = state.withLock { $0.client }
        client?.close()
        thread.stop()
    }

    /// One round; returns the milliseconds until the next.
    private func beatOrBackOff() -> Int {
        do {
            try beat()
            return state.withLock { $0.heartbeatIntervalMs }
        } catch {
            guard !thread.isStopping else { return 0 }
            worker.logger.warning("master unreachable", metadata: ["master": "\(worker.config.masterAddress)",
                                                                   "error": "\(error)"])
            let client = state.withLock { s -> FrameClient? in
                defer {
                    s.client = nil
                    s.registered = false
                }
                return s.client
            }
            client?.close()
            return worker.config.heartbeatRetryIntervalMs
        }
    }

    private func connectedClient() throws -> FrameClient {
        guard !thread.isStopping else { throw NetError.connectionClosed("master link", "stopping") }
        if let client = state.withLock({ $0.client }), client.isConnected { return client }
        let master = worker.config.masterAddress
        let client = try FrameClient.connect(host: master.host, port: master.port, role: .worker,
                                             identity: address.workerId,
                                             config: FrameClientConfig(requestTimeoutMs: 30_000))
        state.withLock {
            $0.client = client
            $0.registered = false
        }
        return client
    }

    /// One round: register if needed, else heartbeat; act on the reply.
    private func beat() throws {
        let client = try connectedClient()
        if !isRegistered {
            try register(client)
            return
        }
        let request = WorkerHeartbeatRequest(workerId: address.workerId, freeBytes: freeBytes(),
                                             draining: worker.isDraining, shuffles: worker.store.heldShuffles())
        let reply = try WorkerHeartbeatResponse.decode(body: try client.call(type: .workerHeartbeat,
                                                                              body: request.encoded()).body)
        if reply.head.status == .unknownWorker || reply.resync {
            worker.logger.info("master asked to register again", metadata: ["status": "\(reply.head.status)",
                                                                             "resync": "\(reply.resync)"])
            try register(client)
            return
        }
        try reply.head.requireOK()
        for shuffle in reply.shufflesToDelete { worker.deleteShuffle(shuffle) }
    }

    private func register(_ client: FrameClient) throws {
        let held = worker.store.heldPartitions().map { file in
            HeldPartition(shuffle: file.key.shuffle, partitionId: file.key.partitionId, epoch: file.key.epoch,
                          role: file.key.role, bytes: UInt64(file.fileBytes))
        }
        let space = try? worker.store.diskSpace()
        let request = RegisterWorkerRequest(address: address, capacityBytes: UInt64(space?.capacityBytes ?? 0),
                                            freeBytes: UInt64(space?.freeBytes ?? 0), held: held)
        let reply = try RegisterWorkerResponse.decode(body: try client.call(type: .registerWorker,
                                                                             body: request.encoded()).body)
        try reply.head.requireOK()
        state.withLock {
            $0.registered = true
            $0.heartbeatIntervalMs = max(Int(reply.heartbeatIntervalMs), 10)
        }
        worker.logger.info("registered with master", metadata: ["worker.id": "\(address.workerId)",
                                                                "held.count": "\(held.count)"])
    }

    private func freeBytes() -> UInt64 {
        UInt64((try? worker.store.diskSpace().freeBytes) ?? 0)
    }
}
