import CZstd
import SluiceCore

/// Zstandard one-shot helpers over libzstd. Each call creates and frees its own context, so these are
/// thread-safe; hot paths should keep a `ZstdCompressor` / `ZstdDecompressor` per thread instead.
public enum Zstd {
    /// The level used unless configured otherwise: 1 (fastest regular level).
    public static let defaultLevel = 1
    /// The accepted level range; calls `ZSTD_minCLevel` and `ZSTD_maxCLevel`.
    public static var levelRange: ClosedRange<Int> { Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel()) }

    /// Worst-case compressed size of `rawLengthBytes` bytes; calls `ZSTD_compressBound`.
    public static func maxCompressedLengthBytes(rawLengthBytes: Int) -> Int {
        Int(ZSTD_compressBound(max(rawLengthBytes, 0)))
    }

    /// Compresses `raw` at `level` with a fresh context; calls `ZSTD_compressCCtx`.
    public static func compress(_ raw: ArraySlice<UInt8>, level: Int = defaultLevel) throws(ProtocolError) -> [UInt8] {
        try ZstdCompressor(level: level).compress(raw)
    }

    /// Decompresses data that must expand to exactly `rawLengthBytes` bytes with a fresh context;
    /// calls `ZSTD_decompressDCtx`. Throws `.corrupt` on invalid input or any other produced length.
    public static func decompress(_ stored: ArraySlice<UInt8>, rawLengthBytes: Int) throws(ProtocolError) -> [UInt8] {
        try ZstdDecompressor().decompress(stored, rawLengthBytes: rawLengthBytes)
    }

    /// The name of a libzstd error code; calls `ZSTD_getErrorName`.
    static func errorName(_ code: Int) -> String {
        String(cString: ZSTD_getErrorName(code))
    }
}

/// A reusable zstd compression context (`ZSTD_CCtx`). Not thread-safe and deliberately not `Sendable`:
/// one thread (or one task at a time) owns it.
public final class ZstdCompressor {
    /// The compression level every call uses.
    public let level: Int
    private let context: OpaquePointer

    /// Creates a context (`ZSTD_createCCtx`). Throws `.invalidArgument` for a level outside
    /// `Zstd.levelRange` and `.internalError` when libzstd cannot allocate.
    public init(level: Int = Zstd.defaultLevel) throws(ProtocolError) {
        guard Zstd.levelRange.contains(level) else {
            throw ProtocolError(.invalidArgument, "zstd level \(level) outside \(Zstd.levelRange)")
        }
        guard let context = ZSTD_createCCtx() else {
            throw ProtocolError(.internalError, "ZSTD_createCCtx failed")
        }
        self.level = level
        self.context = context
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Compresses `raw` into a new array (one zstd frame); calls `ZSTD_compressCCtx`.
    public func compress(_ raw: ArraySlice<UInt8>) throws(ProtocolError) -> [UInt8] {
        var errorCode = 0
        let stored = makeBytes(capacityBytes: Zstd.maxCompressedLengthBytes(rawLengthBytes: raw.count)) {
            compressRaw(raw, $0, $1, &errorCode)
        }
        guard let stored else { throw failure(raw.count, errorCode) }
        return stored
    }

    /// Appends the compression of `raw` to `output` and returns the compressed byte count; calls
    /// `ZSTD_compressCCtx`. `output` is unchanged when this throws.
    @discardableResult
    public func compress(_ raw: ArraySlice<UInt8>, appendingTo output: inout [UInt8]) throws(ProtocolError) -> Int {
        var errorCode = 0
        let before = output.count
        let appended = appendBytes(
            to: &output,
            capacityBytes: Zstd.maxCompressedLengthBytes(rawLengthBytes: raw.count)
        ) {
            compressRaw(raw, $0, $1, &errorCode)
        }
        guard appended else { throw failure(raw.count, errorCode) }
        return output.count - before
    }

    private func compressRaw(
        _ raw: ArraySlice<UInt8>, _ destination: UnsafeMutableRawPointer,
        _ capacityBytes: Int, _ errorCode: inout Int
    ) -> Int? {
        let result = withNonNullBytes(raw) { source, sourceBytes in
            ZSTD_compressCCtx(context, destination, capacityBytes, source, sourceBytes, Int32(level))
        }
        guard ZSTD_isError(result) == 0 else {
            errorCode = result
            return nil
        }
        return result
    }

    private func failure(_ rawBytes: Int, _ errorCode: Int) -> ProtocolError {
        ProtocolError(.internalError, "ZSTD_compressCCtx failed on \(rawBytes) bytes: \(Zstd.errorName(errorCode))")
    }
}

@available(*, unavailable, message: "a zstd context is owned by one thread")
extension ZstdCompressor: Sendable {}

/// A reusable zstd decompression context (`ZSTD_DCtx`). Not thread-safe and deliberately not
/// `Sendable`: one thread (or one task at a time) owns it.
public final class ZstdDecompressor {
    private let context: OpaquePointer

    /// Creates a context (`ZSTD_createDCtx`); throws `.internalError` when libzstd cannot allocate.
    public init() throws(ProtocolError) {
        guard let context = ZSTD_createDCtx() else {
            throw ProtocolError(.internalError, "ZSTD_createDCtx failed")
        }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Decompresses data that must expand to exactly `rawLengthBytes` bytes; calls `ZSTD_decompressDCtx`,
    /// which never writes past the destination. Throws `.corrupt` on invalid input or any other length.
    public func decompress(_ stored: ArraySlice<UInt8>, rawLengthBytes: Int) throws(ProtocolError) -> [UInt8] {
        guard rawLengthBytes >= 0 else {
            throw ProtocolError(.corrupt, "zstd data with negative raw length \(rawLengthBytes)")
        }
        var result = 0
        let raw = makeBytes(capacityBytes: rawLengthBytes) { destination, capacityBytes in
            result = withNonNullBytes(stored) { source, sourceBytes in
                ZSTD_decompressDCtx(context, destination, capacityBytes, source, sourceBytes)
            }
            return ZSTD_isError(result) == 0 ? result : nil
        }
        guard let raw, raw.count == rawLengthBytes else {
            let detail =
                ZSTD_isError(result) != 0
                ? "invalid zstd data (\(Zstd.errorName(result)))" : "zstd data expands to \(result) bytes"
            throw ProtocolError(.corrupt, "\(detail): expected \(rawLengthBytes) raw bytes from \(stored.count) stored")
        }
        return raw
    }
}

@available(*, unavailable, message: "a zstd context is owned by one thread")
extension ZstdDecompressor: Sendable {}
