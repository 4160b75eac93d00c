import SluiceCore

/// What a peer proved in its handshake. Access checks key on this, never on the role a peer declares.
public enum PeerProof: Sendable, Equatable {
    /// Nothing proven: the server has no cluster secret, or accepts unauthenticated peers while a secret is being
    /// rolled out (`authRequired=false`). Such a peer is not restricted (it is trusted as servers were before).
    case none
    /// The worker credential: a master or worker of this cluster.
    case worker
    /// The client credential: may register new applications, nothing more.
    case client
    /// The token of this application: may touch this application's shuffles only.
    case application(String)
}

/// Who a peer is once its handshake is accepted: the role it declared (checked against its proof when it proved
/// one), its identity and what it proved. Limits and exemptions (the memory budget's pause) key on this.
public struct AuthenticatedPeer: Sendable, Equatable {
    /// The role the peer declared; with a proof, one its credential allows.
    public var role: PeerRole
    /// The identity it declared (application id, worker id, tool name); with an application proof, the application.
    public var identity: String
    /// What it proved.
    public var proof: PeerProof

    /// Creates a peer description.
    public init(role: PeerRole, identity: String, proof: PeerProof = .none) {
        self.role = role
        self.identity = identity
        self.proof = proof
    }
}

/// The outcome of authenticating a handshake.
public enum PeerAuthentication: Sendable, Equatable {
    /// The peer may proceed as this.
    case accepted(AuthenticatedPeer)
    /// The handshake is refused with this status and message; the connection closes.
    case refused(StatusCode, String)
}

/// The first step of a handshake, decided on the hello alone.
public enum HandshakeStart: Sendable, Equatable {
    /// Decided without a proof (accepted or refused).
    case decided(PeerAuthentication)
    /// The peer must answer this challenge (sent in the hello reply) with an `authenticate` frame.
    case challenge(serverNonce: [UInt8])
}

/// Decides what a peer proved in its handshake. The frame server calls `start` once per connection, after the
/// version check and before any other message is read; after a challenge, `finish` with the peer's proof.
public protocol PeerAuthenticator: Sendable {
    /// What `hello`, sent from `peerAddress`, proves on its own, or the challenge it must answer.
    func start(_ hello: HelloRequest, peerAddress: String) -> HandshakeStart
    /// Checks the peer's answer to `serverNonce`. On acceptance, also the server's own proof for the peer.
    func finish(
        _ hello: HelloRequest, serverNonce: [UInt8], serverId: String, answer: AuthenticateRequest, peerAddress: String
    ) -> (PeerAuthentication, serverProof: [UInt8])
}

/// Trusts the role a peer declares: what every server does when no cluster secret is configured.
public struct DeclaredRoleAuthenticator: PeerAuthenticator {
    /// Creates the trusting authenticator.
    public init() {}

    /// Accepts the declared role and identity (a peer that offers a proof gets no challenge, and refuses us).
    public func start(_ hello: HelloRequest, peerAddress: String) -> HandshakeStart {
        .decided(.accepted(AuthenticatedPeer(role: hello.role, identity: hello.identity)))
    }

    /// Never called: this authenticator sends no challenge.
    public func finish(
        _ hello: HelloRequest, serverNonce: [UInt8], serverId: String, answer: AuthenticateRequest, peerAddress: String
    ) -> (PeerAuthentication, serverProof: [UInt8]) {
        (.refused(.unauthenticated, "this server sent no challenge"), [])
    }
}
