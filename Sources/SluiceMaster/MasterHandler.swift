import Logging
import SluiceCore
import SluiceNet
import SluiceSystem

/// Decodes master requests, applies them to the state and answers. Every decode error is the client's:
/// it gets `malformed`/`invalidArgument` and the connection stays usable for well-formed requests.
struct MasterHandler: FrameHandler {
    let master: MasterServer

    func handle(request: Frame, on connection: ServerConnection) throws {
        guard let type = MessageType(rawValue: request.type) else {
            connection.respondError(
                to: request, status: .unknownMessage, message: "unknown message type \(request.type)")
            return
        }
        let now = Monotonic.nowMs()
        let body = request.body[...]
        let access = MasterAccess(logger: master.logger)
        let reply: [UInt8]
        switch type {
        case .registerWorker:
            let message = try RegisterWorkerRequest.decode(body: body)
            guard access.permitsWorkerMessage(request, on: connection) else { return }
            let response = master.state.withLock { $0.registerWorker(message, nowMs: now) }
            reply = response.encoded()
            master.logRegistration(message, response.head)
        case .reportHeldPartitions:
            let message = try ReportHeldPartitionsRequest.decode(body: body)
            guard access.permitsWorkerMessage(request, on: connection) else { return }
            let response = master.state.withLock { $0.reportHeldPartitions(message, nowMs: now) }
            reply = response.encoded()
            if message.last && response.head.status == .ok {
                master.logger.info(
                    "worker registration complete",
                    metadata: ["worker.id": "\(message.workerId)", "held.count": "\(message.held.count)"])
            }
        case .adoptPartitions:
            let message = try AdoptPartitionsRequest.decode(body: body)
            guard access.permitsWorkerMessage(request, on: connection) else { return }
            let response = master.state.withLock { $0.adoptPartitions(message, nowMs: now) }
            reply = response.encoded()
            if message.last && response.head.status == .ok {
                master.logger.warning(
                    "lost worker's shared folder adopted",
                    metadata: [
                        "worker.id": "\(message.lostWorkerId)", "adopter.id": "\(message.workerId)",
                        "path": "\(message.folderPath)",
                    ])
            }
        case .workerHeartbeat:
            let message = try WorkerHeartbeatRequest.decode(body: body)
            guard access.permitsWorkerMessage(request, on: connection) else { return }
            reply = master.state.withLock { $0.workerHeartbeat(message, nowMs: now) }.encoded()
        case .registerShuffle:
            let message = try RegisterShuffleRequest.decode(body: body)
            guard access.permits(request, on: connection, application: message.shuffle.applicationId) else { return }
            reply = master.registerShuffle(message, nowMs: now).encoded()
        case .getLocations:
            let message = try GetLocationsRequest.decode(body: body)
            guard access.permits(request, on: connection, application: message.shuffle.applicationId) else { return }
            reply = master.state.withLock { $0.locations(message) }.encoded()
        case .revive:
            let message = try ReviveRequest.decode(body: body)
            guard access.permits(request, on: connection, application: message.shuffle.applicationId) else { return }
            master.metrics.revives.increment()
            let response = master.state.withLock { $0.revive(message, nowMs: now) }
            if response.head.status == .invalidArgument {
                master.logger.warning(
                    "revive refused",
                    metadata: [
                        "application.id": "\(message.shuffle.applicationId)",
                        "shuffle.id": "\(message.shuffle.shuffleId)",
                        "reason": "\(response.head.message)",
                    ])
            }
            reply = response.encoded()
        case .applicationHeartbeat:
            let message = try ApplicationRequest.decode(body: body)
            guard access.permits(request, on: connection, application: message.applicationId) else { return }
            let response = master.state.withLock { $0.applicationHeartbeat(message.applicationId, nowMs: now) }
            if response.head.status != .ok {
                master.logger.warning(
                    "application refused at a limit",
                    metadata: [
                        "application.id": "\(message.applicationId)", "status": "\(response.head.status)",
                        "reason": "\(response.head.message)",
                    ])
            }
            reply = response.encoded()
        case .unregisterShuffle:
            let message = try UnregisterShuffleRequest.decode(body: body)
            guard access.permits(request, on: connection, application: message.shuffle.applicationId) else { return }
            master.state.withLock { $0.unregisterShuffle(message.shuffle, nowMs: now) }
            reply = StatusResponse().encoded()
        case .unregisterApplication:
            let message = try ApplicationRequest.decode(body: body)
            guard access.permits(request, on: connection, application: message.applicationId) else { return }
            master.state.withLock { _ = $0.unregisterApplication(message.applicationId, nowMs: now) }
            reply = StatusResponse().encoded()
        case .registerApplication:
            let message = try RegisterApplicationRequest.decode(body: body)
            guard let token = registerApplication(message.applicationId, request, on: connection, access, nowMs: now)
            else { return }
            reply = RegisterApplicationResponse(token: token).encoded()
        case .hello, .authenticate, .ping, .pushBatch, .pushBatches, .openStream, .fetchChunk, .closeStream:
            connection.respondError(
                to: request, status: .unknownMessage, message: "\(type) is not served by the master")
            return
        }
        connection.respond(to: request, body: reply)
    }

    /// Registers `applicationId` and returns its token (empty without a cluster secret), or answers `forbidden` and
    /// returns nil. A client-credential holder may register only an application nobody registered yet: the token
    /// goes to the first driver alone. Its token holder may register it again (after a master restart).
    private func registerApplication(
        _ applicationId: String, _ request: Frame, on connection: ServerConnection, _ access: MasterAccess,
        nowMs: UInt64
    ) -> [UInt8]? {
        let secret = master.options.auth.secret
        switch connection.peerProof {
        case .client:
            switch master.state.withLock({ $0.registerApplication(applicationId, onlyIfNew: true, nowMs: nowMs) }) {
            case .registered: break
            case .alreadyKnown:
                access.refuse(
                    request, on: connection,
                    "application \(applicationId) is already registered; only its token holder may register it again",
                    application: applicationId)
                return nil
            case .refused(let head):
                connection.respond(to: request, body: RegisterApplicationResponse(head: head).encoded())
                return nil
            }
        case .application(let own) where own == applicationId:
            if case .refused(let head) = master.state.withLock({
                $0.registerApplication(applicationId, onlyIfNew: false, nowMs: nowMs)
            }) {
                connection.respond(to: request, body: RegisterApplicationResponse(head: head).encoded())
                return nil
            }
        case .application, .worker:
            access.refuse(
                request, on: connection, "this credential may not register application \(applicationId)",
                application: applicationId)
            return nil
        case .none:
            if case .refused(let head) = master.state.withLock({
                $0.registerApplication(applicationId, onlyIfNew: false, nowMs: nowMs)
            }) {
                connection.respond(to: request, body: RegisterApplicationResponse(head: head).encoded())
                return nil
            }
            return []  // unauthenticated: nothing to prove later
        }
        master.logger.info("application registered", metadata: ["application.id": "\(applicationId)"])
        return secret?.applicationToken(applicationId) ?? []
    }
}

extension MasterServer {
    /// Registers a shuffle: the state is consulted and updated under the lock, but a new shuffle's partitions are
    /// placed between the two, outside it, so a large shuffle does not stall every other request.
    func registerShuffle(_ request: RegisterShuffleRequest, nowMs: UInt64) -> LocationsResponse {
        let response: LocationsResponse
        switch state.withLock({ $0.admitShuffle(request, nowMs: nowMs) }) {
        case .answered(let answer):
            response = answer
        case .place(let candidates):
            let placement = MasterState.place(request, on: candidates)
            response = state.withLock { $0.commitShuffle(request, placement, nowMs: nowMs) }
        }
        switch response.head.status {
        case .ok:
            metrics.shufflesRegistered.increment()
            let unreplicated =
                request.replicate
                ? response.table.entries.filter { $0.replicaIndex == LocationTable.noReplica }.count : 0
            if unreplicated > 0 {
                // Asked for two copies, got one: a worker loss would lose data; say so rather than run on silently.
                metrics.shufflesUnreplicated.increment()
                logger.warning(
                    "shuffle registered without replicas: fewer than two workers can take partitions",
                    metadata: [
                        "application.id": "\(request.shuffle.applicationId)",
                        "shuffle.id": "\(request.shuffle.shuffleId)",
                        "partitions.unreplicated": "\(unreplicated)", "num.partitions": "\(request.numPartitions)",
                    ])
            }
        case .invalidArgument, .limitExceeded, .internalError:
            logger.warning(
                "shuffle registration refused",
                metadata: [
                    "application.id": "\(request.shuffle.applicationId)", "shuffle.id": "\(request.shuffle.shuffleId)",
                    "num.partitions": "\(request.numPartitions)", "num.mappers": "\(request.numMappers)",
                    "status": "\(response.head.status)", "reason": "\(response.head.message)",
                ])
        default:
            break
        }
        return response
    }

    /// Logs a worker's registration, or its refusal.
    func logRegistration(_ request: RegisterWorkerRequest, _ head: ResponseHead) {
        let metadata: Logger.Metadata = [
            "worker.id": "\(request.address.workerId)", "worker.endpoint": "\(request.address.endpoint)",
            "held.count": "\(request.held.count)", "more.pages": "\(request.morePages)",
        ]
        if head.status == .ok {
            logger.info("worker registered", metadata: metadata)
        } else {
            logger.warning(
                "worker registration refused",
                metadata: metadata.merging(["status": "\(head.status)", "reason": "\(head.message)"]) { $1 })
        }
    }
}
