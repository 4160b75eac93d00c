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
            return try zstdCompressorInstance().compress(raw)
        }
    }

    /// Decompresses `stored` per `codec` into exactly `rawLengthBytes` bytes; calls `LZ4.decompress` or
    /// `ZstdDecompressor.decompress`. Throws `.corrupt` when the data does not expand to that length.
    public func decompress(
        _ stored: ArraySlice<UInt8>, codec: Codec,
        rawLengthBytes: Int
    ) throws(ProtocolError) -> [UInt8] {
        switch codec {
        case .none:
            guard stored.count == rawLengthBytes else {
                throw ProtocolError(.corrupt, "uncompressed data of \(stored.count) bytes, expected \(rawLengthBytes)")
            }
            return Array(stored)
        case .lz4:
            return try LZ4.decompress(stored, rawLengthBytes: rawLengthBytes)
        case .zstd:
            return try zstdDecompressorInstance().decompress(stored, rawLengthBytes: rawLengthBytes)
        }
    }

    private func zstdCompressorInstance() throws(ProtocolError) -> ZstdCompressor {
        if let zstdCompressor { return zstdCompressor }
        let compressor = try ZstdCompressor(level: zstdLevel)
        zstdCompressor = compressor
        return compressor
    }

    private func zstdDecompressorInstance() throws(ProtocolError) -> ZstdDecompressor {
        if let zstdDecompressor { return zstdDecompressor }
        let decompressor = try ZstdDecompressor()
        zstdDecompressor = decompressor
        return decompressor
    }

    /// `context`, or a new default context when it is nil.
    static func orDefault(_ context: CodecContext?) throws(ProtocolError) -> CodecContext {
        if let context { return context }
        return try CodecContext()
    }
}

@available(*, unavailable, message: "holds zstd contexts owned by one thread")
extension CodecContext: Sendable {}
