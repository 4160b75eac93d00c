import CLZ4
import SluiceCore

/// The LZ4 block format (no frame: the raw length travels in the batch header) over liblz4.
/// Stateless and thread-safe: every call uses its own state.
public enum LZ4 {
    /// The largest input liblz4 accepts (`LZ4_MAX_INPUT_SIZE`).
    public static let maxInputBytes = 0x7E00_0000

    /// Worst-case compressed size of `rawLengthBytes` bytes; calls `LZ4_compressBound`.
    public static func maxCompressedLengthBytes(rawLengthBytes: Int) -> Int {
        guard rawLengthBytes >= 0, rawLengthBytes <= maxInputBytes else { return 0 }
        return Int(LZ4_compressBound(Int32(rawLengthBytes)))
    }

    /// Compresses `raw` into a new array; calls `LZ4_compress_default`.
    /// Throws `.invalidArgument` when `raw` exceeds `maxInputBytes`.
    public static func compress(_ raw: ArraySlice<UInt8>) throws(ProtocolError) -> [UInt8] {
        let boundBytes = try bound(raw.count)
        let stored = makeBytes(capacityBytes: boundBytes) { destination, capacityBytes in
            compressRaw(raw, destination, capacityBytes)
        }
        guard let stored else {
            throw ProtocolError(.internalError, "LZ4_compress_default failed on \(raw.count) bytes")
        }
        return stored
    }

    /// Appends the compression of `raw` to `output` and returns the compressed byte count;
    /// calls `LZ4_compress_default`. `output` is unchanged when this throws.
    @discardableResult
    public static func compress(_ raw: ArraySlice<UInt8>, appendingTo output: inout [UInt8]) throws(ProtocolError)
        -> Int
    {
        let boundBytes = try bound(raw.count)
        let before = output.count
        let appended = appendBytes(to: &output, capacityBytes: boundBytes) { destination, capacityBytes in
            compressRaw(raw, destination, capacityBytes)
        }
        guard appended else { throw ProtocolError(.internalError, "LZ4_compress_default failed on \(raw.count) bytes") }
        return output.count - before
    }

    /// Decompresses an LZ4 block that must expand to exactly `rawLengthBytes` bytes; calls
    /// `LZ4_decompress_safe`, which never writes past the destination. Throws `.corrupt` on invalid
    /// input or any other produced length.
    public static func decompress(_ stored: ArraySlice<UInt8>, rawLengthBytes: Int) throws(ProtocolError) -> [UInt8] {
        guard rawLengthBytes >= 0, rawLengthBytes <= maxInputBytes, stored.count <= Int(Int32.max) else {
            throw ProtocolError(
                .corrupt, "LZ4 block of \(stored.count) bytes with invalid raw length \(rawLengthBytes)")
        }
        var producedBytes = -1
        let raw = makeBytes(capacityBytes: rawLengthBytes) { destination, capacityBytes in
            producedBytes = withNonNullBytes(stored) { source, sourceBytes in
                Int(
                    LZ4_decompress_safe(
                        source.assumingMemoryBound(to: CChar.self),
                        destination.assumingMemoryBound(to: CChar.self),
                        Int32(sourceBytes), Int32(capacityBytes)))
            }
            return producedBytes >= 0 ? producedBytes : nil
        }
        guard let raw, producedBytes == rawLengthBytes else {
            let detail = producedBytes < 0 ? "invalid LZ4 data" : "LZ4 data expands to \(producedBytes) bytes"
            throw ProtocolError(.corrupt, "\(detail): expected \(rawLengthBytes) raw bytes from \(stored.count) stored")
        }
        return raw
    }

    private static func bound(_ rawBytes: Int) throws(ProtocolError) -> Int {
        guard rawBytes <= maxInputBytes else {
            throw ProtocolError(.invalidArgument, "LZ4 input of \(rawBytes) bytes exceeds \(maxInputBytes)")
        }
        return maxCompressedLengthBytes(rawLengthBytes: rawBytes)
    }

    private static func compressRaw(
        _ raw: ArraySlice<UInt8>, _ destination: UnsafeMutableRawPointer,
        _ capacityBytes: Int
    ) -> Int? {
        let written = withNonNullBytes(raw) { source, sourceBytes in
            LZ4_compress_default(
                source.assumingMemoryBound(to: CChar.self),
                destination.assumingMemoryBound(to: CChar.self),
                Int32(sourceBytes), Int32(clamping: capacityBytes))
        }
        return written > 0 ? Int(written) : nil
    }
}
