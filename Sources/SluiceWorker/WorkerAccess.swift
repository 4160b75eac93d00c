import Logging
import SluiceCore
import SluiceNet

/// Which data requests a worker connection may make, from what its peer proved (see `PeerProof`): an
/// application's shuffles need its token, replication needs the worker credential. A refusal is answered
/// `forbidden` and logged with the peer's address.
struct WorkerAccess {
    let logger: Logger

    /// True when `connection` may touch every shuffle in `shuffles` (and, for replica copies, replicate);
    /// otherwise answers `forbidden` and returns false.
    func permits(
        _ request: Frame, on connection: ServerConnection, shuffles: some Sequence<ShuffleKey>,
        replicating: Bool = false
    ) -> Bool {
        if replicating && !connection.mayActAsWorker {
            refuse(request, on: connection, "only a peer holding the worker credential may replicate", application: "")
            return false
        }
        for shuffle in shuffles where !connection.mayAccess(application: shuffle.applicationId) {
            refuse(
                request, on: connection,
                "this connection's credential does not allow application \(shuffle.applicationId)",
                application: shuffle.applicationId)
            return false
        }
        return true
    }

    private func refuse(_ request: Frame, on connection: ServerConnection, _ message: String, application: String) {
        logger.warning(
            "request refused: credential does not allow it",
            metadata: [
                "peer.address": "\(connection.peerAddress)", "peer.identity": "\(connection.peerIdentity)",
                "peer.proof": "\(connection.peerProof)", "request.type": "\(request.type)",
                "application.id": "\(application)",
            ])
        connection.respondError(to: request, status: .forbidden, message: message)
    }
}
