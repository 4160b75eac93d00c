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
            reply = master.state.withLock { $0.registerWorker(message, nowMs: now) }.encoded()
            master.logger.info(
                "worker registered",
                metadata: [
                    "worker.id": "\(message.address.workerId)", "worker.endpoint": "\(message.address.endpoint)",
                    "held.count": "\(message.held.count)",
                ])
        case .workerHeartbeat:
            let message = try WorkerHeartbeatRequest.decode(body: body)
            reply = master.state.withLock { $0.workerHeartbeat(message, nowMs: now) }.encoded()
        case .registerShuffle:
            let message = try RegisterShuffleRequest.decode(body: body)
            let response = master.state.withLock { $0.registerShuffle(message, nowMs: now) }
            if response.head.status == .ok { master.metrics.shufflesRegistered.increment() }
            reply = response.encoded()
        case .getLocations:
            let message = try GetLocationsRequest.decode(body: body)
            reply = master.state.withLock { $0.locations(message) }.encoded()
        case .revive:
            let message = try ReviveRequest.decode(body: body)
            master.metrics.revives.increment()
            reply = master.state.withLock { $0.revive(message, nowMs: now) }.encoded()
        case .applicationHeartbeat:
            let message = try ApplicationRequest.decode(body: body)
            master.state.withLock { $0.applicationHeartbeat(message.applicationId, nowMs: now) }
            reply = StatusResponse().encoded()
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
