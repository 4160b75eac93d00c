/// Reads big-endian fields from a byte slice; every read checks bounds and throws `ProtocolError` past the end.
public struct WireReader: Sendable {
    public let bytes: ArraySlice<UInt8>
    /// Absolute index of the next byte to read in `bytes`.
    public private(set) var position: Int

    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    /// Bytes not read yet.
    public var remaining: Int { bytes.endIndex - position }

    private mutating func take(_ count: Int, _ field: StaticString) throws(ProtocolError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw ProtocolError(.malformed, "truncated field \(field): needs \(count) bytes, \(remaining) left")
        }
        let slice = bytes[position..<(position + count)]
        position += count
        return slice
    }

    public mutating func readU8(_ field: StaticString = "u8") throws(ProtocolError) -> UInt8 {
        try take(1, field).first ?? 0
    }

    public mutating func readBool(_ field: StaticString = "bool") throws(ProtocolError) -> Bool {
        let value = try readU8(field)
        guard value <= 1 else { throw ProtocolError(.malformed, "field \(field) is not a boolean: \(value)") }
        return value == 1
    }

    public mutating func readU16(_ field: StaticString = "u16") throws(ProtocolError) -> UInt16 {
        let s = try take(2, field)
        return UInt16(s[s.startIndex]) << 8 | UInt16(s[s.startIndex + 1])
    }

    public mutating func readU32(_ field: StaticString = "u32") throws(ProtocolError) -> UInt32 {
        let s = try take(4, field)
        var value: UInt32 = 0
        for byte in s { value = value << 8 | UInt32(byte) }
        return value
    }

    public mutating func readU64(_ field: StaticString = "u64") throws(ProtocolError) -> UInt64 {
        let s = try take(8, field)
        var value: UInt64 = 0
        for byte in s { value = value << 8 | UInt64(byte) }
        return value
    }

    public mutating func readI32(_ field: StaticString = "i32") throws(ProtocolError) -> Int32 {
        Int32(bitPattern: try readU32(field))
    }

    public mutating func readI64(_ field: StaticString = "i64") throws(ProtocolError) -> Int64 {
        Int64(bitPattern: try readU64(field))
    }

    /// A u16-length UTF-8 string; invalid UTF-8 is an error.
    public mutating func readString(_ field: StaticString = "string") throws(ProtocolError) -> String {
        let length = Int(try readU16(field))
        let raw = try take(length, field)
        guard let value = String(validating: raw, as: UTF8.self) else {
            throw ProtocolError(.malformed, "field \(field) is not valid UTF-8")
        }
        return value
    }

    /// A u32-length byte field, returned as a slice of the input (no copy).
    public mutating func readBlob(_ field: StaticString = "bytes") throws(ProtocolError) -> ArraySlice<UInt8> {
        let length = Int(try readU32(field))
        return try take(length, field)
    }

    /// `count` raw bytes, as a slice of the input.
    public mutating func readRaw(_ count: Int, _ field: StaticString = "raw") throws(ProtocolError) -> ArraySlice<UInt8>
    {
        try take(count, field)
    }

    /// A u32 element count, rejected when it could not fit in what is left at `minimumElementBytes` each.
    public mutating func readCount(_ field: StaticString, minimumElementBytes: Int) throws(ProtocolError) -> Int {
        let count = Int(try readU32(field))
        guard count * max(minimumElementBytes, 1) <= remaining else {
            throw ProtocolError(.malformed, "field \(field) claims \(count) elements, only \(remaining) bytes left")
        }
        return count
    }

    /// Throws unless every byte was consumed: trailing garbage is a malformed message.
    public func expectEnd(_ message: StaticString) throws(ProtocolError) {
        guard remaining == 0 else {
            throw ProtocolError(.malformed, "\(remaining) trailing bytes after \(message)")
        }
    }
}
