/// One batch for one partition location inside a push:
/// `partitionId u32 | epoch u32 | hasReplica bool | [WorkerAddress] | Batch`.
/// A primary forwards the entry to `replica` (when present) before it acknowledges.
public struct PushEntry: Sendable, Equatable {
    public var partitionId: UInt32
    public var epoch: UInt32
    public var replica: WorkerAddress?
    public var batch: Batch

    public init(partitionId: UInt32, epoch: UInt32, replica: WorkerAddress?, batch: Batch) {
        self.partitionId = partitionId
        self.epoch = epoch
        self.replica = replica
        self.batch = batch
    }

    public func encode(into writer: inout WireWriter) {
        encodePrefix(into: &writer)
        writer.writeRaw(batch.payload)
    }

    /// Everything of the entry but the batch's payload, which follows it on the wire.
    func encodePrefix(into writer: inout WireWriter) {
        writer.writeU32(partitionId)
        writer.writeU32(epoch)
        writer.writeBool(replica != nil)
        replica?.encode(into: &writer)
        batch.header.encode(into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> PushEntry {
        let partitionId = try reader.readU32("partitionId")
        let epoch = try reader.readU32("epoch")
        let replica = try reader.readBool("hasReplica") ? try WorkerAddress.decode(from: &reader) : nil
        return PushEntry(
            partitionId: partitionId, epoch: epoch, replica: replica,
            batch: try Batch.decode(from: &reader))
    }
}

/// Client → worker (pushBatch: one entry; pushBatches: several entries, any partitions of one shuffle):
/// `ShuffleKey | role u8 | entryCount u32 | PushEntry...`. `role` is what the receiving worker is for these
/// entries: `primary` from clients, `replica` when a primary forwards (then no entry names a replica).
public struct PushRequest: WireMessage, Equatable {
    public static let messageType = MessageType.pushBatches
    /// The most entries in one push.
    public static let maxEntries = 65_536

    public var shuffle: ShuffleKey
    public var role: PartitionRole
    public var entries: [PushEntry]

    public init(shuffle: ShuffleKey, role: PartitionRole, entries: [PushEntry]) {
        self.shuffle = shuffle
        self.role = role
        self.entries = entries
    }

    /// The frame type this push travels as: `pushBatch` for one entry, `pushBatches` otherwise.
    public var frameType: MessageType { entries.count == 1 ? .pushBatch : .pushBatches }

    public var encodedByteCount: Int {
        entries.reduce(64) { $0 + 64 + $1.batch.encodedByteCount }
    }

    public func encode(into writer: inout WireWriter) {
        shuffle.encode(into: &writer)
        writer.writeU8(role.rawValue)
        writer.writeU32(UInt32(entries.count))
        for entry in entries { entry.encode(into: &writer) }
    }

    public func encodedBody() -> [UInt8] {
        var writer = WireWriter(capacity: encodedByteCount)
        encode(into: &writer)
        return writer.bytes
    }

    /// The encoded body as parts to be written in order (with `writev`): payloads of at least
    /// `sharedPayloadBytes` are the batches' own storage, not copies; what lies between them is packed into
    /// small arrays. Concatenated, the parts equal `encodedBody()`.
    public func encodedParts(sharedPayloadBytes: Int = 64 << 10) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = []
        // Room for everything but the shared payloads, so the packed part never grows by copying.
        let packedBytes = entries.reduce(64) { total, entry in
            total + 64 + (entry.batch.payload.count >= sharedPayloadBytes ? 0 : entry.batch.encodedByteCount)
        }
        var writer = WireWriter(capacity: packedBytes)
        shuffle.encode(into: &writer)
        writer.writeU8(role.rawValue)
        writer.writeU32(UInt32(entries.count))
        for entry in entries {
            guard entry.batch.payload.count >= sharedPayloadBytes else {
                entry.encode(into: &writer)
                continue
            }
            entry.encodePrefix(into: &writer)
            parts.append(writer.bytes[...])
            parts.append(entry.batch.payload)
            writer = WireWriter(capacity: 4096)
        }
        if !writer.bytes.isEmpty { parts.append(writer.bytes[...]) }
        return parts
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> PushRequest {
        let shuffle = try ShuffleKey.decode(from: &reader)
        let role = try PartitionRole.decode(from: &reader)
        let count = try reader.readCount("entries", minimumElementBytes: 9 + BatchHeader.byteCount)
        guard count >= 1, count <= maxEntries else {
            throw ProtocolError(.malformed, "push with \(count) entries (1...\(maxEntries) allowed)")
        }
        var entries: [PushEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let entry = try PushEntry.decode(from: &reader)
            guard role == .primary || entry.replica == nil else {
                throw ProtocolError(.malformed, "a replica push must not name a further replica")
            }
            entries.append(entry)
        }
        return PushRequest(shuffle: shuffle, role: role, entries: entries)
    }
}

/// Worker → client: `ResponseHead | entryCount u32 | status u16...` (one status per entry, in order).
/// `ok` and `softSplit` mean stored (on both copies when replicated); `hardSplit`, `congested`,
/// `replicationFailed`, `unknownShuffle`, `ioError`, `shuttingDown` mean NOT acknowledged: revive or retry.
/// A reply with only the head (e.g. a malformed request) applies the head's status to every entry.
/// The head carries the most severe entry status.
public struct PushResponse: WireResponse, Equatable {
    public static let messageType = MessageType.pushBatches
    public var head: ResponseHead
    public var entryStatuses: [StatusCode]

    public init(head: ResponseHead = ResponseHead(), entryStatuses: [StatusCode]) {
        self.head = head
        self.entryStatuses = entryStatuses
    }

    /// The statuses for `count` entries, expanding a head-only reply.
    public func statuses(count: Int) -> [StatusCode] {
        entryStatuses.count == count
            ? entryStatuses
            : Array(
                repeating: head.status == .ok ? .internalError : head.status,
                count: count)
    }

    public func encode(into writer: inout WireWriter) {
        head.encode(into: &writer)
        writer.writeU32(UInt32(entryStatuses.count))
        for status in entryStatuses { writer.writeU16(status.rawValue) }
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> PushResponse {
        let head = try ResponseHead.decode(from: &reader)
        guard reader.remaining > 0 else { return PushResponse(head: head, entryStatuses: []) }
        let count = try reader.readCount("entryStatuses", minimumElementBytes: 2)
        var statuses: [StatusCode] = []
        statuses.reserveCapacity(count)
        for _ in 0..<count { statuses.append(StatusCode.decode(try reader.readU16("entryStatus"))) }
        return PushResponse(head: head, entryStatuses: statuses)
    }
}

extension StatusCode {
    /// True when a push entry with this status is acknowledged: stored on every copy.
    public var isStored: Bool { self == .ok || self == .softSplit }
}
