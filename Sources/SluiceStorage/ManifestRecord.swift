import CSluiceShim
import SluiceCore

/// One record of a directory's manifest (`ManifestLog`). On disk each record is
/// `bodyLength u32 | crc32c u32 (of the body) | body`, big-endian like the wire; the body is `kind u8 | fields`.
enum ManifestRecord: Sendable, Equatable {
    /// The file of `key` holds whole, valid batches up to the end of `chunks`: the chunks from index `firstChunk`
    /// on replace what earlier records said from that index on (chunks before it are sealed and unchanged).
    case written(key: PartitionFileKey, firstChunk: Int, chunks: [ChunkInfo])
    /// The file of `key` left the directory (demoted to another tier).
    case fileRemoved(key: PartitionFileKey)
    /// Every file of a shuffle was deleted.
    case shuffleRemoved(applicationId: String, shuffleId: UInt32)
    /// Every file of an application was deleted.
    case applicationRemoved(applicationId: String)

    /// Bytes before a record's body: its length and checksum.
    static let headerBytes = 8
    /// A body longer than this is not a record (a damaged length), whatever the checksum says.
    static let maxBodyBytes = 64 << 20

    private enum Kind: UInt8 {
        case written = 1
        case shuffleRemoved = 2
        case applicationRemoved = 3
        case fileRemoved = 4
    }

    /// The record framed for the log: length, checksum, body.
    var framed: [UInt8] {
        var body = WireWriter(capacity: 64)
        encodeBody(into: &body)
        var frame = WireWriter(capacity: body.bytes.count + Self.headerBytes)
        frame.writeU32(UInt32(body.bytes.count))
        frame.writeU32(body.bytes.withUnsafeBytes { sluice_crc32c(0, $0.baseAddress, $0.count) })
        frame.writeRaw(body.bytes)
        return frame.bytes
    }

    private func encodeBody(into writer: inout WireWriter) {
        switch self {
        case .written(let key, let firstChunk, let chunks):
            writer.writeU8(Kind.written.rawValue)
            Self.encode(key, into: &writer)
            writer.writeU32(UInt32(firstChunk))
            writer.writeU32(UInt32(chunks.count))
            for chunk in chunks {
                writer.writeU64(UInt64(chunk.offsetBytes))
                writer.writeU64(UInt64(chunk.lengthBytes))
                writer.writeU32(UInt32(chunk.batchCount))
                writer.writeBool(chunk.hasUncompressed)
                writer.writeU32(UInt32(chunk.mapIndexes.count))
                for map in chunk.mapIndexes { writer.writeU32(map) }
            }
        case .shuffleRemoved(let applicationId, let shuffleId):
            writer.writeU8(Kind.shuffleRemoved.rawValue)
            writer.writeString(applicationId)
            writer.writeU32(shuffleId)
        case .applicationRemoved(let applicationId):
            writer.writeU8(Kind.applicationRemoved.rawValue)
            writer.writeString(applicationId)
        case .fileRemoved(let key):
            writer.writeU8(Kind.fileRemoved.rawValue)
            Self.encode(key, into: &writer)
        }
    }

    private static func encode(_ key: PartitionFileKey, into writer: inout WireWriter) {
        writer.writeString(key.applicationId)
        writer.writeU32(key.shuffleId)
        writer.writeU32(key.partitionId)
        writer.writeU32(key.epoch)
        writer.writeU8(key.role.rawValue)
    }

    /// A key as `encode` wrote it; nil when it is not a valid key.
    private static func decodeKey(from reader: inout WireReader) throws(ProtocolError) -> PartitionFileKey? {
        let applicationId = try reader.readString("applicationId")
        let shuffleId = try reader.readU32("shuffleId")
        let partitionId = try reader.readU32("partitionId")
        let epoch = try reader.readU32("epoch")
        guard let role = PartitionRole(rawValue: try reader.readU8("role")) else { return nil }
        return try? PartitionFileKey(
            applicationId: applicationId, shuffleId: shuffleId, partitionId: partitionId, epoch: epoch, role: role)
    }

    /// Decodes one checked body; nil when it is not a record this version knows (it is then skipped).
    static func decode(body: ArraySlice<UInt8>) -> ManifestRecord? {
        var reader = WireReader(body)
        do throws(ProtocolError) {
            guard let kind = Kind(rawValue: try reader.readU8("kind")) else { return nil }
            switch kind {
            case .written:
                guard let key = try decodeKey(from: &reader) else { return nil }
                let firstChunk = Int(try reader.readU32("firstChunk"))
                let count = try reader.readCount("chunks", minimumElementBytes: 25)
                var chunks: [ChunkInfo] = []
                chunks.reserveCapacity(count)
                for index in firstChunk..<(firstChunk + count) {
                    let offset = Int(try reader.readU64("offset"))
                    let length = Int(try reader.readU64("length"))
                    let batches = Int(try reader.readU32("batchCount"))
                    let hasUncompressed = try reader.readBool("hasUncompressed")
                    let mapCount = try reader.readCount("maps", minimumElementBytes: 4)
                    var maps: [UInt32] = []
                    maps.reserveCapacity(mapCount)
                    for _ in 0..<mapCount { maps.append(try reader.readU32("map")) }
                    chunks.append(
                        ChunkInfo(
                            index: index, offsetBytes: offset, lengthBytes: length, batchCount: batches,
                            mapIndexes: maps, hasUncompressed: hasUncompressed))
                }
                return .written(key: key, firstChunk: firstChunk, chunks: chunks)
            case .shuffleRemoved:
                return .shuffleRemoved(
                    applicationId: try reader.readString("applicationId"), shuffleId: try reader.readU32("shuffleId"))
            case .applicationRemoved:
                return .applicationRemoved(applicationId: try reader.readString("applicationId"))
            case .fileRemoved:
                return try decodeKey(from: &reader).map { .fileRemoved(key: $0) }
            }
        } catch {
            return nil
        }
    }
}

/// What a manifest says about one file: its chunks, whose end is the offset up to which the file holds whole,
/// valid batches.
struct ManifestEntry: Sendable, Equatable {
    var chunks: [ChunkInfo]

    /// Bytes of whole batches the manifest vouches for.
    var validBytes: Int { chunks.last.map { $0.offsetBytes + $0.lengthBytes } ?? 0 }

    /// Applies a `written` record: chunks from `firstChunk` on are replaced. A record that would leave a gap
    /// (it starts past the chunks known) is refused: the entry is then not trusted.
    mutating func apply(firstChunk: Int, chunks newChunks: [ChunkInfo]) -> Bool {
        guard firstChunk <= chunks.count else { return false }
        chunks.removeSubrange(firstChunk...)
        chunks.append(contentsOf: newChunks)
        return true
    }
}

/// The live state a manifest's records add up to, and how many records it took (the rest are dead).
struct ManifestState: Sendable {
    var entries: [PartitionFileKey: ManifestEntry] = [:]
    /// Records read or appended since the log was last written whole.
    var recordCount = 0

    /// Applies one record in log order.
    mutating func apply(_ record: ManifestRecord) {
        recordCount += 1
        switch record {
        case .written(let key, let firstChunk, let chunks):
            var entry = entries[key] ?? ManifestEntry(chunks: [])
            entries[key] = entry.apply(firstChunk: firstChunk, chunks: chunks) ? entry : nil
        case .shuffleRemoved(let applicationId, let shuffleId):
            entries = entries.filter { $0.key.applicationId != applicationId || $0.key.shuffleId != shuffleId }
        case .applicationRemoved(let applicationId):
            entries = entries.filter { $0.key.applicationId != applicationId }
        case .fileRemoved(let key):
            entries[key] = nil
        }
    }

    /// Records that no longer say anything the live entries need.
    var deadRecordCount: Int { max(0, recordCount - entries.count) }
}
