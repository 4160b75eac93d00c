import SluiceCore
import SluiceNet

/// Routes a worker's requests by message type.
struct WorkerHandler: FrameHandler {
    let worker: WorkerServer

    func handle(request: Frame, on connection: ServerConnection) throws {
        switch MessageType(rawValue: request.type) {
        case .pushBatch, .pushBatches:
            try PushHandler(worker: worker).handle(request: request, on: connection)
        case .openStream:
            try FetchHandler(worker: worker).open(request: request, on: connection)
        case .fetchChunk:
            try FetchHandler(worker: worker).fetch(request: request, on: connection)
        case .closeStream:
            try FetchHandler(worker: worker).close(request: request, on: connection)
        default:
            connection.respondError(
                to: request, status: .unknownMessage,
                message: "message type \(request.type) is not served by a worker")
        }
    }

    func connectionClosed(_ connection: ServerConnection) {
        FetchHandler(worker: worker).closeAll(on: connection)
    }
}
