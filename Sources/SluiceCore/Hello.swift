/// Who opened a connection: sent in the handshake so servers can log and limit by role.
public enum PeerRole: UInt8, Sendable, CaseIterable {
    case client = 0
    case worker = 1
    case master = 2
    case tool = 3
}

/// The first frame on every connection (type `hello`):
/// `magic u32 | version u16 | role u8 | identity string [| clientNonce bytes]`. A peer that will authenticate
/// (see `AuthenticateRequest`) sends a fresh `clientNonce` of `HandshakeNonce.byteCount` bytes; one that will not,
/// sends none.
public struct HelloRequest: Sendable, Equatable {
    public var version: UInt16
    public var role: PeerRole
    /// Names the peer: the application id for an application's connections, the worker id for a worker's.
    public var identity: String
    /// Present when the peer will prove a credential after the reply.
    public var clientNonce: [UInt8]?

    public init(
        version: UInt16 = ProtocolVersion.current, role: PeerRole, identity: String, clientNonce: [UInt8]? = nil
    ) {
        self.version = version
        self.role = role
        self.identity = identity
        self.clientNonce = clientNonce
    }

    public func encode() -> [UInt8] {
        var writer = WireWriter()
        writer.writeU32(ProtocolVersion.magic)
        writer.writeU16(version)
        writer.writeU8(role.rawValue)
        writer.writeString(identity)
        if let clientNonce { writer.writeBlob(clientNonce) }
        return writer.bytes
    }

    /// Decodes and checks the magic; the version is checked by the caller so it can answer with its own.
    public static func decode(_ body: ArraySlice<UInt8>) throws(ProtocolError) -> HelloRequest {
        var reader = WireReader(body)
        let magic = try reader.readU32("hello.magic")
        guard magic == ProtocolVersion.magic else {
            throw ProtocolError(.malformed, "bad handshake magic 0x\(String(magic, radix: 16))")
        }
        let version = try reader.readU16("hello.version")
        let rawRole = try reader.readU8("hello.role")
        guard let role = PeerRole(rawValue: rawRole) else {
            throw ProtocolError(.malformed, "unknown peer role \(rawRole)")
        }
        let identity = try reader.readString("hello.identity")
        var clientNonce: [UInt8]?
        if reader.remaining > 0 {
            clientNonce = Array(try HandshakeNonce.read(from: &reader, "hello.clientNonce"))
        }
        try reader.expectEnd("hello")
        return HelloRequest(version: version, role: role, identity: identity, clientNonce: clientNonce)
    }
}

/// The reply to `hello`: `status u16 | message string | version u16 | serverId string [| serverNonce bytes]`.
/// A server that authenticates peers sends a fresh `serverNonce`: the challenge the peer's proof must cover.
public struct HelloResponse: Sendable, Equatable {
    public var status: StatusCode
    public var message: String
    public var version: UInt16
    public var serverId: String
    /// Present when the server authenticates peers (it holds the cluster secret).
    public var serverNonce: [UInt8]?

    public init(
        status: StatusCode = .ok, message: String = "", version: UInt16 = ProtocolVersion.current,
        serverId: String, serverNonce: [UInt8]? = nil
    ) {
        self.status = status
        self.message = message
        self.version = version
        self.serverId = serverId
        self.serverNonce = serverNonce
    }

    public func encode() -> [UInt8] {
        var writer = WireWriter()
        writer.writeU16(status.rawValue)
        writer.writeString(message)
        writer.writeU16(version)
        writer.writeString(serverId)
        if let serverNonce { writer.writeBlob(serverNonce) }
        return writer.bytes
    }

    public static func decode(_ body: ArraySlice<UInt8>) throws(ProtocolError) -> HelloResponse {
        var reader = WireReader(body)
        let status = StatusCode.decode(try reader.readU16("hello.status"))
        let message = try reader.readString("hello.message")
        guard reader.remaining > 0 else {
            return HelloResponse(status: status, message: message, version: 0, serverId: "")
        }
        let version = try reader.readU16("hello.version")
        let serverId = try reader.readString("hello.serverId")
        var serverNonce: [UInt8]?
        if reader.remaining > 0 {
            serverNonce = Array(try HandshakeNonce.read(from: &reader, "hello.serverNonce"))
        }
        return HelloResponse(
            status: status, message: message, version: version, serverId: serverId, serverNonce: serverNonce)
    }
}

/// The random challenges of the handshake: each side sends one, and each proof covers both.
public enum HandshakeNonce {
    /// Length of a nonce in bytes.
    public static let byteCount = 32

    /// Reads a length-prefixed nonce and checks its length.
    static func read(from reader: inout WireReader, _ field: StaticString) throws(ProtocolError) -> ArraySlice<UInt8> {
        let nonce = try reader.readBlob(field)
        guard nonce.count == byteCount else {
            throw ProtocolError(.malformed, "\(field) is \(nonce.count) bytes, not \(byteCount)")
        }
        return nonce
    }
}

/// The body of an error response to any request: `status u16 | message string`. Every response body
/// starts this way, so a client can always read the status before the message-specific fields.
public struct ErrorResponse: Sendable, Equatable {
    public var status: StatusCode
    public var message: String

    public init(_ status: StatusCode, _ message: String) {
        self.status = status
        self.message = message
    }

    public func encode() -> [UInt8] {
        var writer = WireWriter()
        writer.writeU16(status.rawValue)
        writer.writeString(String(message.utf8.prefix(4096)) ?? "")
        return writer.bytes
    }

    public static func decode(_ body: ArraySlice<UInt8>) throws(ProtocolError) -> ErrorResponse {
        var reader = WireReader(body)
        let status = StatusCode.decode(try reader.readU16("response.status"))
        let message = try reader.readString("response.message")
        return ErrorResponse(status, message)
    }
}
