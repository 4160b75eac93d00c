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
        let reply: [UInt8]
        switch type {
        case .registerWorker:
            let message = try RegisterWorkerRequest.decode(body: body)
            let response = master.state.withLock { $0.registerWorker(message, nowMs: now) }
            reply = response.encoded()
            master.logRegistration(message, response.head)
        case .reportHeldPartitions:
            let message = try ReportHeldPartitionsRequest.decode(body: body)
            let response = master.state.withLock { $0.reportHeldPartitions(message, nowMs: now) }
            reply = response.encoded()
            if message.last && response.head.status == .ok {
                master.logger.info(
                    "worker registration complete",
                    metadata: ["worker.id": "\(message.workerId)", "held.count": "\(message.held.count)"])
            }
        case .workerHeartbeat:
            let message = try WorkerHeartbeatRequest.decode(body: body)
            reply = master.state.withLock { $0.workerHeartbeat(message, nowMs: now) }.encoded()
        case .registerShuffle:
            let message = try RegisterShuffleRequest.decode(body: body)
            reply = master.registerShuffle(message, nowMs: now).encoded()
        case .getLocations:
            let message = try GetLocationsRequest.decode(body: body)
            reply = master.state.withLock { $0.locations(message) }.encoded()
        case .revive:
            let message = try ReviveRequest.decode(body: body)
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
            master.state.withLock { $0.unregisterShuffle(message.shuffle, nowMs: now) }
            reply = StatusResponse().encoded()
        case .unregisterApplication:
            let message = try ApplicationRequest.decode(body: body)
            master.state.withLock { _ = $0.unregisterApplication(message.applicationId, nowMs: now) }
            reply = StatusResponse().encoded()
        case .hello, .ping, .pushBatch, .pushBatches, .openStream, .fetchChunk, .closeStream:
            connection.respondError(
                to: request, status: .unknownMessage, message: "\(type) is not served by the master")
            return
        }
        connection.respond(to: request, body: reply)
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
