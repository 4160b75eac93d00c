import Logging
import SluiceCore
import SluiceNet

/// Which requests a master connection may make, from what its peer proved (see `PeerProof`): worker messages
/// need the worker credential, an application's messages its token. A refusal is answered `forbidden` and
/// logged with the peer's address.
struct MasterAccess {
    let logger: Logger

    /// True when `connection` may send worker messages; otherwise answers `forbidden` and returns false.
    func permitsWorkerMessage(_ request: Frame, on connection: ServerConnection) -> Bool {
        guard !connection.mayActAsWorker else { return true }
        refuse(request, on: connection, "only a peer holding the worker credential may send this", application: nil)
        return false
    }

    /// True when `connection` may touch `applicationId`; otherwise answers `forbidden` and returns false.
    func permits(_ request: Frame, on connection: ServerConnection, application applicationId: String) -> Bool {
        guard !connection.mayAccess(application: applicationId) else { return true }
        refuse(
            request, on: connection, "this connection's credential does not allow application \(applicationId)",
            application: applicationId)
        return false
    }

    /// Answers `forbidden` with `message` and logs the peer.
    func refuse(_ request: Frame, on connection: ServerConnection, _ message: String, application: String?) {
        logger.warning(
            "request refused: credential does not allow it",
            metadata: [
                "peer.address": "\(connection.peerAddress)", "peer.identity": "\(connection.peerIdentity)",
                "peer.proof": "\(connection.peerProof)", "request.type": "\(request.type)",
                "application.id": "\(application ?? "")",
            ])
        connection.respondError(to: request, status: .forbidden, message: message)
    }
}
