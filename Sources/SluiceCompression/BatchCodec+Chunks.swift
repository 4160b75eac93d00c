import SluiceCore

extension BatchCodec {
    /// Compresses an uncompressed batch with `codec`, keeping map index, attempt id, sequence and flags,
    /// with a new CRC32C (the worker uses this to serve compressed fetches of batches pushed with codec none).
    ///
    /// Returns `batch` unchanged when it is already compressed, `codec` is `.none`, or compression does not
    /// shrink it. The input is verified first (throws `.corrupt`), so a bad payload never gets a fresh CRC.
    public static func recompress(
        _ batch: Batch, to codec: Codec,
        context: CodecContext? = nil
    ) throws(ProtocolError) -> Batch {
        guard batch.header.codec == .none, codec != .none else { return batch }
        try verify(batch)
        let stored = try CodecContext.orDefault(context).compress(batch.payload, codec: codec)
        guard stored.count < batch.payload.count else { return batch }
        var header = batch.header
        header.codec = codec
        header.storedLength = UInt32(stored.count)
        header.crc32c = CRC32C.checksum(stored)
        return Batch(header: header, payload: stored[...])
    }

    /// Splits a buffer of concatenated batches (a fetched chunk) with `Batch.decode`. The payloads are
    /// slices of `bytes` (no copy) and are not verified: `decode` does that per batch. Throws `.corrupt`
    /// naming the batch and offset when the buffer is truncated or a header is invalid.
    public static func splitBatches(_ bytes: ArraySlice<UInt8>) throws(ProtocolError) -> [Batch] {
        var reader = WireReader(bytes)
        var batches: [Batch] = []
        while reader.remaining > 0 {
            let offset = reader.position - bytes.startIndex
            do {
                batches.append(try Batch.decode(from: &reader))
            } catch {
                throw ProtocolError(
                    .corrupt,
                    "chunk of \(bytes.count) bytes, batch \(batches.count) at offset "
                        + "\(offset): \(error.message)")
            }
        }
        return batches
    }

    /// `splitBatches` for a whole array.
    public static func splitBatches(_ bytes: [UInt8]) throws(ProtocolError) -> [Batch] {
        try splitBatches(bytes[...])
    }
}
