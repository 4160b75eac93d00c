/// Appends big-endian fields to a growing byte array: the one encoder for frames, messages and file headers.
public struct WireWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Creates a writer whose buffer reserves `capacity` bytes.
    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func writeU8(_ value: UInt8) { bytes.append(value) }
    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func writeU16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func writeU32(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeU64(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeI32(_ value: Int32) { writeU32(UInt32(bitPattern: value)) }
    public mutating func writeI64(_ value: Int64) { writeU64(UInt64(bitPattern: value)) }

    /// A string: u16 byte length, then UTF-8. Precondition: at most 65,535 bytes (callers validate input first).
    public mutating func writeString(_ value: String) {
        let utf8 = Array(value.utf8)
        precondition(utf8.count <= Int(UInt16.max), "string field longer than 65535 bytes")
        writeU16(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// A byte field: u32 length, then the bytes.
    public mutating func writeBlob<C: Collection>(_ value: C) where C.Element == UInt8 {
        precondition(value.count <= Int(UInt32.max), "byte field longer than 4 GiB")
        writeU32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    /// Raw bytes with no length prefix.
    public mutating func writeRaw<C: Collection>(_ value: C) where C.Element == UInt8 {
        bytes.append(contentsOf: value)
    }
}
