/// Driver → master: `ShuffleKey | numMappers u32 | numPartitions u32 | replicate bool`.
/// Idempotent: registering a known shuffle returns its current table. Counts as an application heartbeat. The
/// master bounds numPartitions and numMappers (`master.maxPartitionsPerShuffle`, `master.maxMappersPerShuffle`).
public struct RegisterShuffleRequest: WireMessage, Equatable {
    public static let messageType = MessageType.registerShuffle

    public var shuffle: ShuffleKey
    public var numMappers: UInt32
    public var numPartitions: UInt32
    public var replicate: Bool

    public init(shuffle: ShuffleKey, numMappers: UInt32, numPartitions: UInt32, replicate: Bool) {
        self.shuffle = shuffle
        self.numMappers = numMappers
        self.numPartitions = numPartitions
        self.replicate = replicate
    }

    public func encode(into writer: inout WireWriter) {
        shuffle.encode(into: &writer)
        writer.writeU32(numMappers)
        writer.writeU32(numPartitions)
        writer.writeBool(replicate)
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> RegisterShuffleRequest {
        RegisterShuffleRequest(
            shuffle: try ShuffleKey.decode(from: &reader),
            numMappers: try reader.readU32("numMappers"),
            numPartitions: try reader.readU32("numPartitions"),
            replicate: try reader.readBool("replicate"))
    }
}

/// Master → driver, for registerShuffle and getLocations: `ResponseHead | LocationTable` (table only when ok).
/// For registerShuffle the table has epoch 0 of every partition; for getLocations every epoch of every
/// partition that has one (a reader reads them all).
public struct LocationsResponse: WireResponse, Equatable {
    public static let messageType = MessageType.registerShuffle
    public var head: ResponseHead
    public var table: LocationTable

    public init(head: ResponseHead = ResponseHead(), table: LocationTable = LocationTable()) {
        self.head = head
        self.table = table
    }

    public func encode(into writer: inout WireWriter) {
        head.encode(into: &writer)
        if head.status == .ok { table.encode(into: &writer) }
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> LocationsResponse {
        let head = try ResponseHead.decode(from: &reader)
        guard head.status == .ok else { return LocationsResponse(head: head) }
        return LocationsResponse(head: head, table: try LocationTable.decode(from: &reader))
    }
}

/// Driver → master: `ShuffleKey` (getLocations: every epoch of every partition).
public struct GetLocationsRequest: WireMessage, Equatable {
    public static let messageType = MessageType.getLocations
    public var shuffle: ShuffleKey

    public init(shuffle: ShuffleKey) { self.shuffle = shuffle }

    public func encode(into writer: inout WireWriter) { shuffle.encode(into: &writer) }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> GetLocationsRequest {
        GetLocationsRequest(shuffle: try ShuffleKey.decode(from: &reader))
    }
}

/// Driver → master: `applicationId string` (applicationHeartbeat and unregisterApplication).
public struct ApplicationRequest: WireMessage, Equatable {
    public static let messageType = MessageType.applicationHeartbeat
    public var applicationId: String

    public init(applicationId: String) { self.applicationId = applicationId }

    public func encode(into writer: inout WireWriter) { writer.writeString(applicationId) }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> ApplicationRequest {
        let id = try reader.readString("applicationId")
        guard !id.isEmpty else { throw ProtocolError(.invalidArgument, "empty application id") }
        return ApplicationRequest(applicationId: id)
    }
}

/// Driver → master: `ShuffleKey` (unregisterShuffle).
public struct UnregisterShuffleRequest: WireMessage, Equatable {
    public static let messageType = MessageType.unregisterShuffle
    public var shuffle: ShuffleKey

    public init(shuffle: ShuffleKey) { self.shuffle = shuffle }

    public func encode(into writer: inout WireWriter) { shuffle.encode(into: &writer) }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> UnregisterShuffleRequest {
        UnregisterShuffleRequest(shuffle: try ShuffleKey.decode(from: &reader))
    }
}

/// A response that is only a `ResponseHead` (heartbeats, unregister, close stream, ping).
public struct StatusResponse: WireResponse, Equatable {
    public static let messageType = MessageType.ping
    public var head: ResponseHead

    public init(_ head: ResponseHead = ResponseHead()) { self.head = head }

    public func encode(into writer: inout WireWriter) { head.encode(into: &writer) }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> StatusResponse {
        StatusResponse(try ResponseHead.decode(from: &reader))
    }
}

/// Client → master: `ShuffleKey | partitionId u32 | failedEpoch u32 | failedWorkerId string`.
/// Asks for a location newer than `failedEpoch`; when another mapper already revived the partition the
/// existing newer epoch is returned. `failedWorkerId` (may be empty) is avoided for the new location.
public struct ReviveRequest: WireMessage, Equatable {
    public static let messageType = MessageType.revive
    public var shuffle: ShuffleKey
    public var partitionId: UInt32
    public var failedEpoch: UInt32
    public var failedWorkerId: String

    public init(shuffle: ShuffleKey, partitionId: UInt32, failedEpoch: UInt32, failedWorkerId: String) {
        self.shuffle = shuffle
        self.partitionId = partitionId
        self.failedEpoch = failedEpoch
        self.failedWorkerId = failedWorkerId
    }

    public func encode(into writer: inout WireWriter) {
        shuffle.encode(into: &writer)
        writer.writeU32(partitionId)
        writer.writeU32(failedEpoch)
        writer.writeString(failedWorkerId)
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> ReviveRequest {
        ReviveRequest(
            shuffle: try ShuffleKey.decode(from: &reader), partitionId: try reader.readU32("partitionId"),
            failedEpoch: try reader.readU32("failedEpoch"),
            failedWorkerId: try reader.readString("failedWorkerId"))
    }
}
