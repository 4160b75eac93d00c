import SluiceAuth
import SluiceCore

/// Authenticates peers with the cluster secret: a peer that sends a nonce in its hello is challenged and must
/// prove one of the keys derived from the secret (worker, client, or its application's token). A peer that does
/// not is refused when `isRequired`, or accepted unrestricted (`PeerProof.none`) while a secret is rolled out.
public struct ClusterAuthenticator: PeerAuthenticator {
    private let secret: ClusterSecret
    /// Refuse peers that do not authenticate.
    public let isRequired: Bool

    /// The authenticator a server runs: the cluster secret's, or `DeclaredRoleAuthenticator` without one.
    public static func forCluster(secret: ClusterSecret?, isRequired: Bool) -> any PeerAuthenticator {
        guard let secret else { return DeclaredRoleAuthenticator() }
        return ClusterAuthenticator(secret: secret, isRequired: isRequired)
    }

    /// An authenticator for the cluster holding `secret`.
    public init(secret: ClusterSecret, isRequired: Bool) {
        self.secret = secret
        self.isRequired = isRequired
    }

    public func start(_ hello: HelloRequest, peerAddress: String) -> HandshakeStart {
        if hello.clientNonce != nil { return .challenge(serverNonce: Nonce.random()) }
        if isRequired {
            return .decided(
                .refused(
                    .unauthenticated,
                    "this server requires authentication: configure the cluster secret (servers) or the client "
                        + "secret (Spark jobs, tools)"))
        }
        return .decided(.accepted(AuthenticatedPeer(role: hello.role, identity: hello.identity)))
    }

    public func finish(
        _ hello: HelloRequest, serverNonce: [UInt8], serverId: String, answer: AuthenticateRequest, peerAddress: String
    ) -> (PeerAuthentication, serverProof: [UInt8]) {
        guard let clientNonce = hello.clientNonce else {
            return (.refused(.unauthenticated, "no client nonce in hello"), [])
        }
        guard Self.allows(answer.kind, role: hello.role) else {
            return (.refused(.unauthenticated, "a \(answer.kind) credential cannot act as a \(hello.role)"), [])
        }
        let credential = secret.key(for: answer.kind, identity: hello.identity)
        let transcript = HandshakeTranscript(
            role: hello.role, identity: hello.identity, kind: answer.kind, clientNonce: clientNonce,
            serverNonce: serverNonce, serverId: serverId)
        guard credential.isValidPeerProof(answer.proof, transcript) else {
            return (.refused(.unauthenticated, "wrong \(answer.kind) credential for this cluster"), [])
        }
        let proof: PeerProof =
            switch answer.kind {
            case .worker: .worker
            case .client: .client
            case .application: .application(hello.identity)
            }
        let peer = AuthenticatedPeer(role: hello.role, identity: hello.identity, proof: proof)
        return (.accepted(peer), credential.serverProof(transcript))
    }

    /// Which declared roles each credential may take: only the worker credential makes a worker or master.
    static func allows(_ kind: CredentialKind, role: PeerRole) -> Bool {
        switch kind {
        case .worker: role == .worker || role == .master
        case .client, .application: role == .client || role == .tool
        }
    }
}
