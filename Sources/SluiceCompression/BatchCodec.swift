import SluiceCore

/// The one place that turns raw record bytes into a `Batch` and back: compression, CRC32C of the stored
/// bytes, and every check on the way out. Thread-safe as long as each thread passes its own
/// `CodecContext` (or none: a temporary one is made per call).
public enum BatchCodec {
    /// Compresses `raw` with `codec` and builds its header (CRC32C of the stored bytes).
    ///
    /// With `fallbackToNoneWhenLarger`, a batch whose compression does not shrink it (stored >= raw) is
    /// kept with codec none. A compressed form larger than `BatchHeader.maxBatchBytes` always falls back.
    /// Throws `.invalidArgument` when `raw` exceeds `BatchHeader.maxBatchBytes`.
    public static func encode(
        raw: ArraySlice<UInt8>, codec: Codec, mapIndex: UInt32, attemptId: UInt64,
        sequence: UInt32, isLast: Bool, fallbackToNoneWhenLarger: Bool = true,
        context: CodecContext? = nil
    ) throws(ProtocolError) -> (header: BatchHeader, stored: [UInt8]) {
        guard raw.count <= BatchHeader.maxBatchBytes else {
            throw ProtocolError(
                .invalidArgument,
                "batch of \(raw.count) raw bytes exceeds \(BatchHeader.maxBatchBytes)")
        }
        var usedCodec = codec
        var stored = try CodecContext.orDefault(context).compress(raw, codec: codec)
        let notSmaller = fallbackToNoneWhenLarger && stored.count >= raw.count
        if codec != .none, notSmaller || stored.count > BatchHeader.maxBatchBytes {
            usedCodec = .none
            stored = Array(raw)
        }
        let header = BatchHeader(
            mapIndex: mapIndex, attemptId: attemptId, sequence: sequence,
            flags: isLast ? [.last] : [], codec: usedCodec, rawLength: UInt32(raw.count),
            storedLength: UInt32(stored.count), crc32c: CRC32C.checksum(stored))
        return (header, stored)
    }

    /// `encode(raw:...)` for a whole array.
    public static func encode(
        raw: [UInt8], codec: Codec, mapIndex: UInt32, attemptId: UInt64,
        sequence: UInt32, isLast: Bool, fallbackToNoneWhenLarger: Bool = true,
        context: CodecContext? = nil
    ) throws(ProtocolError) -> (header: BatchHeader, stored: [UInt8]) {
        guard codec == .none, raw.count <= BatchHeader.maxBatchBytes else {
            return try encode(
                raw: raw[...], codec: codec, mapIndex: mapIndex, attemptId: attemptId, sequence: sequence,
                isLast: isLast, fallbackToNoneWhenLarger: fallbackToNoneWhenLarger, context: context)
        }
        // Stored as is: the array itself becomes the payload (shared, not copied).
        let header = BatchHeader(
            mapIndex: mapIndex, attemptId: attemptId, sequence: sequence,
            flags: isLast ? [.last] : [], codec: .none, rawLength: UInt32(raw.count),
            storedLength: UInt32(raw.count), crc32c: CRC32C.checksum(raw))
        return (header, raw)
    }

    /// `encode(raw:...)`, returned as one array: the 32 header bytes then the stored bytes (via `WireWriter`).
    public static func encodeWire(
        raw: ArraySlice<UInt8>, codec: Codec, mapIndex: UInt32, attemptId: UInt64,
        sequence: UInt32, isLast: Bool, fallbackToNoneWhenLarger: Bool = true,
        context: CodecContext? = nil
    ) throws(ProtocolError) -> [UInt8] {
        let (header, stored) = try encode(
            raw: raw, codec: codec, mapIndex: mapIndex, attemptId: attemptId,
            sequence: sequence, isLast: isLast,
            fallbackToNoneWhenLarger: fallbackToNoneWhenLarger, context: context)
        var writer = WireWriter(capacity: BatchHeader.byteCount + stored.count)
        header.encode(into: &writer)
        writer.writeRaw(stored)
        return writer.bytes
    }

    /// Checks a batch without decompressing it: payload length equals `storedLength`, lengths within
    /// `BatchHeader.maxBatchBytes`, raw equals stored for codec none, and the CRC32C of the payload
    /// matches the header. Throws `.corrupt` with what failed.
    public static func verify(_ batch: Batch) throws(ProtocolError) {
        let header = batch.header
        guard batch.payload.count == Int(header.storedLength) else {
            throw corrupt(header, "payload has \(batch.payload.count) bytes, header says \(header.storedLength)")
        }
        guard Int(header.rawLength) <= BatchHeader.maxBatchBytes,
            Int(header.storedLength) <= BatchHeader.maxBatchBytes
        else {
            throw corrupt(header, "\(header.rawLength) raw / \(header.storedLength) stored bytes exceed the limit")
        }
        guard header.codec != .none || header.rawLength == header.storedLength else {
            throw corrupt(header, "codec none with raw length \(header.rawLength) != stored \(header.storedLength)")
        }
        let actualCRC = CRC32C.checksum(batch.payload)
        guard actualCRC == header.crc32c else {
            throw corrupt(header, "CRC32C mismatch: header 0x\(hex(header.crc32c)), payload 0x\(hex(actualCRC))")
        }
    }

    /// `decode` without a copy for uncompressed batches: their payload slice itself (it shares the storage of
    /// the received frame); compressed batches are decompressed into a new array.
    public static func decodeSlice(_ batch: Batch, context: CodecContext? = nil) throws(ProtocolError) -> ArraySlice<
        UInt8
    > {
        guard batch.header.codec == .none else { return try decode(batch, context: context)[...] }
        try verify(batch)
        guard batch.payload.count == Int(batch.header.rawLength) else {
            throw corrupt(
                batch.header, "uncompressed data of \(batch.payload.count) bytes, expected \(batch.header.rawLength)")
        }
        return batch.payload
    }

    /// Verifies the batch, then returns its raw record bytes (decompressed to exactly `rawLength`).
    /// Throws `.corrupt` on any failed check.
    public static func decode(_ batch: Batch, context: CodecContext? = nil) throws(ProtocolError) -> [UInt8] {
        try verify(batch)
        do throws(ProtocolError) {
            return try CodecContext.orDefault(context).decompress(
                batch.payload, codec: batch.header.codec,
                rawLengthBytes: Int(batch.header.rawLength))
        } catch {
            throw error.status == .corrupt ? corrupt(batch.header, error.message) : error
        }
    }

    static func corrupt(_ header: BatchHeader, _ detail: String) -> ProtocolError {
        ProtocolError(
            .corrupt,
            "batch map \(header.mapIndex) attempt \(header.attemptId) seq \(header.sequence) "
                + "(\(header.codec)): \(detail)")
    }

    private static func hex(_ value: UInt32) -> String { String(value, radix: 16) }
}
