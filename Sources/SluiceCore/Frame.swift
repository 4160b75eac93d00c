/// The fixed 16-byte header in front of every frame, big-endian:
/// `bodyLength u32 | type u16 | flags u16 | requestId u64`, then `bodyLength` body bytes.
public struct FrameHeader: Sendable, Equatable {
    /// Size of the encoded header in bytes.
    public static let byteCount = 16

    /// Number of body bytes that follow the header (the header itself is not counted).
    public var bodyLength: UInt32
    /// What the body holds: a `MessageType` raw value.
    public var type: UInt16
    /// `FrameFlags` bits.
    public var flags: FrameFlags
    /// Chosen by the requester; a response carries the id of its request.
    public var requestId: UInt64

    public init(bodyLength: UInt32, type: UInt16, flags: FrameFlags, requestId: UInt64) {
        self.bodyLength = bodyLength
        self.type = type
        self.flags = flags
        self.requestId = requestId
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeU32(bodyLength)
        writer.writeU16(type)
        writer.writeU16(flags.rawValue)
        writer.writeU64(requestId)
    }

    public var encoded: [UInt8] {
        var writer = WireWriter(capacity: Self.byteCount)
        encode(into: &writer)
        return writer.bytes
    }

    /// Decodes a header from exactly `byteCount` bytes and checks the body length against `maxBodyBytes`
    /// before anything is allocated for the body.
    public static func decode(_ bytes: ArraySlice<UInt8>, maxBodyBytes: Int) throws(ProtocolError) -> FrameHeader {
        var reader = WireReader(bytes)
        let length = try reader.readU32("frame.bodyLength")
        let type = try reader.readU16("frame.type")
        let rawFlags = try reader.readU16("frame.flags")
        let requestId = try reader.readU64("frame.requestId")
        guard Int(length) <= maxBodyBytes else {
            throw ProtocolError(.frameTooLarge, "frame body of \(length) bytes exceeds the maximum of \(maxBodyBytes)")
        }
        let flags = FrameFlags(rawValue: rawFlags)
        guard flags.isSubset(of: FrameFlags.known) else {
            throw ProtocolError(.malformed, "unknown frame flags 0x\(String(rawFlags, radix: 16))")
        }
        return FrameHeader(bodyLength: length, type: type, flags: flags, requestId: requestId)
    }
}

/// Bits of the frame header's flags field.
public struct FrameFlags: OptionSet, Sendable, Equatable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Set on responses; clear on requests and one-way messages.
    public static let response = FrameFlags(rawValue: 1 << 0)
    /// Set on a request that wants no response.
    public static let oneWay = FrameFlags(rawValue: 1 << 1)

    public static let known: FrameFlags = [.response, .oneWay]
}

/// A whole frame: header fields plus its body.
public struct Frame: Sendable {
    public var type: UInt16
    public var flags: FrameFlags
    public var requestId: UInt64
    public var body: [UInt8]

    public init(type: UInt16, flags: FrameFlags = [], requestId: UInt64, body: [UInt8]) {
        self.type = type
        self.flags = flags
        self.requestId = requestId
        self.body = body
    }

    public init(type: MessageType, flags: FrameFlags = [], requestId: UInt64, body: [UInt8]) {
        self.init(type: type.rawValue, flags: flags, requestId: requestId, body: body)
    }

    public var header: FrameHeader {
        FrameHeader(bodyLength: UInt32(body.count), type: type, flags: flags, requestId: requestId)
    }

    public var isResponse: Bool { flags.contains(.response) }

    /// Header and body in one array, ready to write.
    public var encoded: [UInt8] {
        var writer = WireWriter(capacity: FrameHeader.byteCount + body.count)
        header.encode(into: &writer)
        writer.writeRaw(body)
        return writer.bytes
    }
}

/// Message types (frame header `type`). A response has the same type as its request and the response flag.
public enum MessageType: UInt16, Sendable, CaseIterable {
    /// First frame on every connection: magic, protocol version, role, identity.
    case hello = 0x0001
    /// Connection liveness probe; answered with an empty ok.
    case ping = 0x0002
    /// Second frame of an authenticated handshake: the peer's proof (see `AuthenticateRequest`).
    case authenticate = 0x0003

    // Master: workers.
    case registerWorker = 0x0010
    case workerHeartbeat = 0x0011
    case reportHeldPartitions = 0x0012
    /// A worker reports the files it adopted from a lost worker's shared folder (see `AdoptPartitionsRequest`).
    case adoptPartitions = 0x0013

    // Master: applications and shuffles.
    case registerShuffle = 0x0020
    case applicationHeartbeat = 0x0021
    case unregisterShuffle = 0x0022
    case unregisterApplication = 0x0023
    case revive = 0x0024
    case getLocations = 0x0025
    /// Returns the application's token (see `RegisterApplicationRequest`).
    case registerApplication = 0x0026

    // Worker: data path.
    case pushBatch = 0x0030
    case pushBatches = 0x0031
    case openStream = 0x0040
    case fetchChunk = 0x0041
    case closeStream = 0x0042
}

/// Protocol constants for the handshake.
public enum ProtocolVersion {
    /// "SLCE" in ASCII.
    public static let magic: UInt32 = 0x534C_4345
    /// The version this build's clients send.
    public static let current: UInt16 = 1
    /// The versions this build's servers accept (a server answers each peer in the peer's version).
    public static let supported: ClosedRange<UInt16> = 1...current
}
