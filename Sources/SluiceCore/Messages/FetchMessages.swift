/// Reader → worker: `ShuffleKey | partitionId u32 | epoch u32 | role u8 | startMapIndex u32 |
/// endMapIndex u32 | acceptedCodecs u8`. Opens a stream over the chunks of one partition file that hold
/// any map index in `startMapIndex..<endMapIndex` (0 and 0xFFFFFFFF for all). `acceptedCodecs` is a
/// bit mask of `Codec.maskBit`; uncompressed batches are served compressed when the mask allows.
public struct OpenStreamRequest: WireMessage, Equatable {
    public static let messageType = MessageType.openStream
    public static let allMaps: Range<UInt32> = 0..<UInt32.max

    public var shuffle: ShuffleKey
    public var partitionId: UInt32
    public var epoch: UInt32
    public var role: PartitionRole
    public var startMapIndex: UInt32
    public var endMapIndex: UInt32
    public var acceptedCodecs: UInt8

    public init(
        shuffle: ShuffleKey, partitionId: UInt32, epoch: UInt32, role: PartitionRole,
        mapRange: Range<UInt32> = OpenStreamRequest.allMaps,
        acceptedCodecs: UInt8 = Codec.none.maskBit | Codec.lz4.maskBit | Codec.zstd.maskBit
    ) {
        self.shuffle = shuffle
        self.partitionId = partitionId
        self.epoch = epoch
        self.role = role
        self.startMapIndex = mapRange.lowerBound
        self.endMapIndex = mapRange.upperBound
        self.acceptedCodecs = acceptedCodecs
    }

    public func encode(into writer: inout WireWriter) {
        shuffle.encode(into: &writer)
        writer.writeU32(partitionId)
        writer.writeU32(epoch)
        writer.writeU8(role.rawValue)
        writer.writeU32(startMapIndex)
        writer.writeU32(endMapIndex)
        writer.writeU8(acceptedCodecs)
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> OpenStreamRequest {
        let shuffle = try ShuffleKey.decode(from: &reader)
        let partitionId = try reader.readU32("partitionId")
        let epoch = try reader.readU32("epoch")
        let role = try PartitionRole.decode(from: &reader)
        let start = try reader.readU32("startMapIndex")
        let end = try reader.readU32("endMapIndex")
        let codecs = try reader.readU8("acceptedCodecs")
        guard start <= end else { throw ProtocolError(.invalidArgument, "map range \(start)..<\(end) is reversed") }
        return OpenStreamRequest(
            shuffle: shuffle, partitionId: partitionId, epoch: epoch, role: role,
            mapRange: start..<end, acceptedCodecs: codecs)
    }
}

/// Worker → reader: `ResponseHead | streamId u64 | chunkCount u32 | storedBytes u64` (fields only when ok).
public struct OpenStreamResponse: WireResponse, Equatable {
    public static let messageType = MessageType.openStream
    public var head: ResponseHead
    public var streamId: UInt64
    public var chunkCount: UInt32
    public var storedBytes: UInt64

    public init(
        head: ResponseHead = ResponseHead(), streamId: UInt64 = 0, chunkCount: UInt32 = 0,
        storedBytes: UInt64 = 0
    ) {
        self.head = head
        self.streamId = streamId
        self.chunkCount = chunkCount
        self.storedBytes = storedBytes
    }

    public func encode(into writer: inout WireWriter) {
        head.encode(into: &writer)
        guard head.status == .ok else { return }
        writer.writeU64(streamId)
        writer.writeU32(chunkCount)
        writer.writeU64(storedBytes)
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> OpenStreamResponse {
        let head = try ResponseHead.decode(from: &reader)
        guard head.status == .ok else { return OpenStreamResponse(head: head) }
        return OpenStreamResponse(
            head: head, streamId: try reader.readU64("streamId"),
            chunkCount: try reader.readU32("chunkCount"),
            storedBytes: try reader.readU64("storedBytes"))
    }
}

/// Reader → worker: `streamId u64 | chunkIndex u32` (fetchChunk); `streamId u64` alone for closeStream.
public struct FetchChunkRequest: WireMessage, Equatable {
    public static let messageType = MessageType.fetchChunk
    public var streamId: UInt64
    public var chunkIndex: UInt32

    public init(streamId: UInt64, chunkIndex: UInt32) {
        self.streamId = streamId
        self.chunkIndex = chunkIndex
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeU64(streamId)
        writer.writeU32(chunkIndex)
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> FetchChunkRequest {
        FetchChunkRequest(streamId: try reader.readU64("streamId"), chunkIndex: try reader.readU32("chunkIndex"))
    }
}

/// Worker → reader: `ResponseHead | dataLength u32 | data` where data is whole batches back to back
/// (header + stored bytes each). Only the head when the status is not ok. The worker writes the head and
/// length itself and the data with sendfile(2) when no batch needs recompressing.
public struct FetchChunkResponse: WireResponse, Equatable {
    public static let messageType = MessageType.fetchChunk
    public var head: ResponseHead
    public var data: ArraySlice<UInt8>

    public init(head: ResponseHead = ResponseHead(), data: ArraySlice<UInt8> = []) {
        self.head = head
        self.data = data
    }

    /// The bytes in front of `dataLength` data bytes in an ok response.
    public static func okPrefix(dataLength: Int) -> [UInt8] {
        var writer = WireWriter(capacity: 8)
        ResponseHead().encode(into: &writer)
        writer.writeU32(UInt32(dataLength))
        return writer.bytes
    }

    public func encode(into writer: inout WireWriter) {
        head.encode(into: &writer)
        if head.status == .ok { writer.writeBlob(data) }
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> FetchChunkResponse {
        let head = try ResponseHead.decode(from: &reader)
        guard head.status == .ok else { return FetchChunkResponse(head: head) }
        return FetchChunkResponse(head: head, data: try reader.readBlob("chunk.data"))
    }
}

/// Reader → worker: `streamId u64`. Answered with a `StatusResponse`. Streams also close with their connection.
public struct CloseStreamRequest: WireMessage, Equatable {
    public static let messageType = MessageType.closeStream
    public var streamId: UInt64

    public init(streamId: UInt64) { self.streamId = streamId }

    public func encode(into writer: inout WireWriter) { writer.writeU64(streamId) }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> CloseStreamRequest {
        CloseStreamRequest(streamId: try reader.readU64("streamId"))
    }
}
