import SluiceCore

/// Compression state for every `Codec`, reused across calls: one per thread (or per connection
/// handler), never shared, because it holds zstd contexts that are not thread-safe. The zstd contexts
/// are created on first use.
public final class CodecContext {
    /// The zstd level used for `.zstd`.
    public let zstdLevel: Int
    private var zstdCompressor: ZstdCompressor?
    private var zstdDecompressor: ZstdDecompressor?

    /// Creates a context; throws `.invalidArgument` when `zstdLevel` is outside `Zstd.levelRange`.
    public init(zstdLevel: Int = Zstd.defaultLevel) throws(ProtocolError) {
        guard Zstd.levelRange.contains(zstdLevel) else {
            throw ProtocolError(.invalidArgument, "zstd level \(zstdLevel) outside \(Zstd.levelRange)")
        }
        self.zstdLevel = zstdLevel
    }

    /// Compresses `raw` with `codec` (`.none` copies); calls `LZ4.compress` or `ZstdCompressor.compress`.
    public func compress(_ raw: ArraySlice<UInt8>, codec: Codec) throws(ProtocolError) -> [UInt8] {
        switch codec {
        case .none:
            return Array(raw)
        case .lz4:
            return try LZ4.compress(raw)
        case .zstd:
            let compressor = try zstdCompressor ?? ZstdCompressor(level: zstdLevel)
            zstdCompressor = compressor
            return try compressor.compress(raw)
        }
    }

    /// Decompresses `stored` per `codec` into exactly `rawLengthBytes` bytes; calls `LZ4.decompress` or
    /// `ZstdDecompressor.decompress`. Throws `.corrupt` when the data does not expand to that length.
    public func decompress(_ stored: ArraySlice<UInt8>, codec: Codec,
                           rawLengthBytes: Int) throws(ProtocolError) -> [UInt8] {
        switch codec {
        case .none:
            guard stored.count == rawLengthBytes else {
                throw ProtocolError(.corrupt, "uncompressed data of \(stored.count) bytes, expected \(rawLengthBytes)")
            }
            return Array(stored)
        case .lz4:
            return try LZ4.decompress(stored, rawLengthBytes: rawLengthBytes)
        case .zstd:
            let decompressor = try zstdDecompressor ?? ZstdDecompressor()
            zstdDecompressor = decompressor
            return try decompressor.decompress(stored, rawLengthBytes: rawLengthBytes)
        }
    }
}

@available(*, unavailable, message: "holds zstd contexts owned by one thread")
extension CodecContext: Sendable {}
