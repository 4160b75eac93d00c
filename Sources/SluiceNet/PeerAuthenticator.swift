import SluiceCore

/// Who a peer is once its handshake is accepted: the role it proved (not merely declared) and its identity.
/// Limits and exemptions (the memory budget's pause) key on this role.
public struct AuthenticatedPeer: Sendable, Equatable {
    /// The role the peer proved.
    public var role: PeerRole
    /// The identity it proved (application id, worker id, tool name).
    public var identity: String

    /// Creates a peer description.
    public init(role: PeerRole, identity: String) {
        self.role = role
        self.identity = identity
    }
}

/// The outcome of authenticating a handshake.
public enum PeerAuthentication: Sendable, Equatable {
    /// The peer may proceed as this.
    case accepted(AuthenticatedPeer)
    /// The handshake is refused with this status and message; the connection closes.
    case refused(StatusCode, String)
}

/// Decides what a peer proved in its handshake. The frame server calls it once per connection, after the
/// version check and before any other message is read.
public protocol PeerAuthenticator: Sendable {
    /// What `hello`, sent from `peerAddress`, proves.
    func authenticate(_ hello: HelloRequest, peerAddress: String) -> PeerAuthentication
}

/// Trusts the role a peer declares: what every server does until cluster authentication is configured.
public struct DeclaredRoleAuthenticator: PeerAuthenticator {
    /// Creates the trusting authenticator.
    public init() {}

    /// Accepts the declared role and identity.
    public func authenticate(_ hello: HelloRequest, peerAddress: String) -> PeerAuthentication {
        .accepted(AuthenticatedPeer(role: hello.role, identity: hello.identity))
    }
}
