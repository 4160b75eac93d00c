/// Which key a peer proves in its handshake. Each is derived from the cluster secret (see SluiceAuth);
/// the number is on the wire and shared with the Java client.
public enum CredentialKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Held by masters and workers: register as a worker, replicate, skip the memory budget's pause.
    case worker = 1
    /// Held by Spark jobs and tools: may only register a new application (and so obtain its token).
    case client = 2
    /// An application's token: the holder may touch that application's shuffles only. The hello's identity
    /// names the application.
    case application = 3

    public var description: String {
        switch self {
        case .worker: "worker"
        case .client: "client"
        case .application: "application"
        }
    }
}

/// Peer → server, the frame after an authenticated hello reply: `kind u8 | proof bytes`. The proof is an
/// HMAC-SHA256 over both nonces and both names (see SluiceAuth's `HandshakeTranscript`); the key never travels.
public struct AuthenticateRequest: WireMessage, Equatable {
    public static let messageType = MessageType.authenticate
    /// Length of a proof in bytes (HMAC-SHA256).
    public static let proofByteCount = 32

    public var kind: CredentialKind
    public var proof: [UInt8]

    public init(kind: CredentialKind, proof: [UInt8]) {
        self.kind = kind
        self.proof = proof
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeU8(kind.rawValue)
        writer.writeBlob(proof)
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> AuthenticateRequest {
        let rawKind = try reader.readU8("kind")
        guard let kind = CredentialKind(rawValue: rawKind) else {
            throw ProtocolError(.malformed, "unknown credential kind \(rawKind)")
        }
        let proof = try reader.readBlob("proof")
        guard proof.count == proofByteCount else {
            throw ProtocolError(.malformed, "proof is \(proof.count) bytes, not \(proofByteCount)")
        }
        try reader.expectEnd("authenticate")
        return AuthenticateRequest(kind: kind, proof: Array(proof))
    }
}

/// Server → peer: `ResponseHead | serverProof bytes` (the proof only when ok). The server's proof shows the
/// peer that it, too, holds the key: a peer never sends data to a server that cannot prove it.
public struct AuthenticateResponse: WireResponse, Equatable {
    public static let messageType = MessageType.authenticate
    public var head: ResponseHead
    public var serverProof: [UInt8]

    public init(head: ResponseHead = ResponseHead(), serverProof: [UInt8] = []) {
        self.head = head
        self.serverProof = serverProof
    }

    public func encode(into writer: inout WireWriter) {
        head.encode(into: &writer)
        if head.status == .ok { writer.writeBlob(serverProof) }
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> AuthenticateResponse {
        let head = try ResponseHead.decode(from: &reader)
        guard head.status == .ok else { return AuthenticateResponse(head: head) }
        return AuthenticateResponse(head: head, serverProof: Array(try reader.readBlob("serverProof")))
    }
}

/// Driver → master: `applicationId string`. Registers the application (idempotent for its own token holder) and
/// returns its token. With a cluster secret, a peer proving only the client credential gets the token of an
/// application nobody registered yet; the holder of the token may ask again.
public struct RegisterApplicationRequest: WireMessage, Equatable {
    public static let messageType = MessageType.registerApplication
    public var applicationId: String

    public init(applicationId: String) { self.applicationId = applicationId }

    public func encode(into writer: inout WireWriter) { writer.writeString(applicationId) }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> RegisterApplicationRequest {
        let id = try reader.readString("applicationId")
        guard !id.isEmpty else { throw ProtocolError(.invalidArgument, "empty application id") }
        return RegisterApplicationRequest(applicationId: id)
    }
}

/// Master → driver: `ResponseHead | token bytes` (the token only when ok; empty when the cluster has no secret).
public struct RegisterApplicationResponse: WireResponse, Equatable {
    public static let messageType = MessageType.registerApplication
    public var head: ResponseHead
    public var token: [UInt8]

    public init(head: ResponseHead = ResponseHead(), token: [UInt8] = []) {
        self.head = head
        self.token = token
    }

    public func encode(into writer: inout WireWriter) {
        head.encode(into: &writer)
        if head.status == .ok { writer.writeBlob(token) }
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> RegisterApplicationResponse {
        let head = try ResponseHead.decode(from: &reader)
        guard head.status == .ok else { return RegisterApplicationResponse(head: head) }
        return RegisterApplicationResponse(head: head, token: Array(try reader.readBlob("token")))
    }
}
