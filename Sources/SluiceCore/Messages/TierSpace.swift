/// Room in one storage tier of a worker, as its heartbeat reports it: the tier's kind (`nvme`, `ebs`, `fsx`), the
/// bytes its healthy directories can still take, and what they may hold in all.
/// `kind string | freeBytes u64 | capacityBytes u64`.
public struct TierSpace: Sendable, Equatable {
    /// The tier's kind, as configured.
    public var kind: String
    /// Bytes the tier's healthy directories can still take (under their capacities and file systems' free space).
    public var freeBytes: UInt64
    /// Bytes its directories may hold in all.
    public var capacityBytes: UInt64

    /// Creates a description.
    public init(kind: String, freeBytes: UInt64, capacityBytes: UInt64) {
        self.kind = kind
        self.freeBytes = freeBytes
        self.capacityBytes = capacityBytes
    }

    /// Writes the tier.
    public func encode(into writer: inout WireWriter) {
        writer.writeString(kind)
        writer.writeU64(freeBytes)
        writer.writeU64(capacityBytes)
    }

    /// Reads a tier.
    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> TierSpace {
        TierSpace(
            kind: try reader.readString("tier.kind"), freeBytes: try reader.readU64("tier.freeBytes"),
            capacityBytes: try reader.readU64("tier.capacityBytes"))
    }

    /// The most tiers a worker reports (its configuration allows 8).
    public static let maxCount = 16
}
