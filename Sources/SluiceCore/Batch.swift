/// Compression codec of a batch's stored bytes (u8 on the wire and on disk).
public enum Codec: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case lz4 = 1
    case zstd = 2

    public var description: String {
        switch self {
        case .none: "none"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// Parses a configuration name ("none", "lz4", "zstd").
    public init?(name: String) {
        switch name.lowercased() {
        case "none": self = .none
        case "lz4": self = .lz4
        case "zstd", "zstandard": self = .zstd
        default: return nil
        }
    }

    /// This codec's bit in an accepted-codecs mask.
    public var maskBit: UInt8 { 1 << rawValue }
}

/// The 32-byte header in front of every batch, on the wire and in partition files, big-endian:
/// `mapIndex u32 | attemptId u64 | sequence u32 | flags u8 | codec u8 | reserved u16 |`
/// `rawLength u32 | storedLength u32 | crc32c u32` (CRC32C of the `storedLength` stored bytes).
public struct BatchHeader: Sendable, Equatable, Hashable {
    public static let byteCount = 32
    /// The largest raw or stored batch accepted anywhere: 64 MiB.
    public static let maxBatchBytes = 64 << 20

    /// Spark's map index (0..<numMappers).
    public var mapIndex: UInt32
    /// Spark's task attempt id (`taskAttemptId`, unique per application).
    public var attemptId: UInt64
    /// 0, 1, 2, ... per (map index, attempt id, partition); a repeated number is a retried push.
    public var sequence: UInt32
    public var flags: BatchFlags
    public var codec: Codec
    /// Length of the uncompressed records.
    public var rawLength: UInt32
    /// Length of the bytes that follow the header.
    public var storedLength: UInt32
    /// CRC32C of the stored bytes.
    public var crc32c: UInt32

    public init(
        mapIndex: UInt32, attemptId: UInt64, sequence: UInt32, flags: BatchFlags = [], codec: Codec,
        rawLength: UInt32, storedLength: UInt32, crc32c: UInt32
    ) {
        self.mapIndex = mapIndex
        self.attemptId = attemptId
        self.sequence = sequence
        self.flags = flags
        self.codec = codec
        self.rawLength = rawLength
        self.storedLength = storedLength
        self.crc32c = crc32c
    }

    public var isLast: Bool { flags.contains(.last) }

    public func encode(into writer: inout WireWriter) {
        writer.writeU32(mapIndex)
        writer.writeU64(attemptId)
        writer.writeU32(sequence)
        writer.writeU8(flags.rawValue)
        writer.writeU8(codec.rawValue)
        writer.writeU16(0)
        writer.writeU32(rawLength)
        writer.writeU32(storedLength)
        writer.writeU32(crc32c)
    }

    public var encoded: [UInt8] {
        var writer = WireWriter(capacity: Self.byteCount)
        encode(into: &writer)
        return writer.bytes
    }

    /// Decodes and validates a header (known codec and flags, lengths within `maxBatchBytes`,
    /// stored equals raw for codec none).
    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> BatchHeader {
        let mapIndex = try reader.readU32("batch.mapIndex")
        let attemptId = try reader.readU64("batch.attemptId")
        let sequence = try reader.readU32("batch.sequence")
        let rawFlags = try reader.readU8("batch.flags")
        let rawCodec = try reader.readU8("batch.codec")
        let reserved = try reader.readU16("batch.reserved")
        let rawLength = try reader.readU32("batch.rawLength")
        let storedLength = try reader.readU32("batch.storedLength")
        let crc = try reader.readU32("batch.crc32c")
        guard let codec = Codec(rawValue: rawCodec) else {
            throw ProtocolError(.malformed, "unknown batch codec \(rawCodec)")
        }
        let flags = BatchFlags(rawValue: rawFlags)
        guard flags.isSubset(of: BatchFlags.known), reserved == 0 else {
            throw ProtocolError(.malformed, "unknown batch flags 0x\(String(rawFlags, radix: 16)) or reserved bits")
        }
        guard Int(rawLength) <= maxBatchBytes, Int(storedLength) <= maxBatchBytes else {
            throw ProtocolError(
                .malformed, "batch of \(rawLength) raw / \(storedLength) stored bytes exceeds \(maxBatchBytes)")
        }
        guard codec != .none || rawLength == storedLength else {
            throw ProtocolError(
                .malformed, "uncompressed batch with raw length \(rawLength) != stored length \(storedLength)")
        }
        return BatchHeader(
            mapIndex: mapIndex, attemptId: attemptId, sequence: sequence, flags: flags,
            codec: codec, rawLength: rawLength, storedLength: storedLength, crc32c: crc)
    }
}

/// Bits of a batch header's flags byte.
public struct BatchFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The last batch of this (map index, attempt, partition): the reader knows the sequence is complete.
    public static let last = BatchFlags(rawValue: 1 << 0)

    public static let known: BatchFlags = [.last]
}

/// A batch: its header and its stored bytes (compressed per `header.codec`).
public struct Batch: Sendable, Equatable {
    public var header: BatchHeader
    public var payload: ArraySlice<UInt8>

    public init(header: BatchHeader, payload: ArraySlice<UInt8>) {
        self.header = header
        self.payload = payload
    }

    /// Header plus payload length in bytes.
    public var encodedByteCount: Int { BatchHeader.byteCount + payload.count }

    public func encode(into writer: inout WireWriter) {
        header.encode(into: &writer)
        writer.writeRaw(payload)
    }

    /// Decodes a header and the `storedLength` bytes after it (no checksum check: that belongs to the
    /// codec layer, which verifies before writing and again when reading).
    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> Batch {
        let header = try BatchHeader.decode(from: &reader)
        let payload = try reader.readRaw(Int(header.storedLength), "batch.payload")
        return Batch(header: header, payload: payload)
    }
}
