/// Who opened a connection: sent in the handshake so servers can log and limit by role.
public enum PeerRole: UInt8, Sendable, CaseIterable {
    case client = 0
    case worker = 1
    case master = 2
    case tool = 3
}

/// The first frame on every connection (type `hello`): `magic u32 | version u16 | role u8 | identity string`.
public struct HelloRequest: Sendable, Equatable {
    public var version: UInt16
    public var role: PeerRole
    /// Free text naming the peer (application id, worker id, tool name) for logs.
    public var identity: String

    public init(version: UInt16 = ProtocolVersion.current, role: PeerRole, identity: String) {
        self.version = version
        self.role = role
        self.identity = identity
    }

    public func encode() -> [UInt8] {
        var writer = WireWriter()
        writer.writeU32(ProtocolVersion.magic)
        writer.writeU16(version)
        writer.writeU8(role.rawValue)
        writer.writeString(identity)
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
        try reader.expectEnd("hello")
        return HelloRequest(version: version, role: role, identity: identity)
    }
}

/// The reply to `hello`: `status u16 | message string | version u16 | serverId string`.
public struct HelloResponse: Sendable, Equatable {
    public var status: StatusCode
    public var message: String
    public var version: UInt16
    public var serverId: String

    public init(
        status: StatusCode = .ok, message: String = "", version: UInt16 = ProtocolVersion.current,
        serverId: String
    ) {
        self.status = status
        self.message = message
        self.version = version
        self.serverId = serverId
    }

    public func encode() -> [UInt8] {
        var writer = WireWriter()
        writer.writeU16(status.rawValue)
        writer.writeString(message)
        writer.writeU16(version)
        writer.writeString(serverId)
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
        return HelloResponse(status: status, message: message, version: version, serverId: serverId)
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
