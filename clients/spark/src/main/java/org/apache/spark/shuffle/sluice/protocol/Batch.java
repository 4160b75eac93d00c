package org.apache.spark.shuffle.sluice.protocol;

/** A batch: its header and its stored (possibly compressed) bytes, {@code header.storedLength} of them. */
public final class Batch {
    public final BatchHeader header;
    /** Array holding the stored bytes at {@link #payloadOffset}. */
    public final byte[] payload;
    public final int payloadOffset;

    public Batch(BatchHeader header, byte[] payload, int payloadOffset) {
        this.header = header;
        this.payload = payload;
        this.payloadOffset = payloadOffset;
    }

    /** Header plus stored bytes. */
    public int encodedBytes() {
        return BatchHeader.BYTES + header.storedLength;
    }

    public void encode(WireWriter writer) {
        header.encode(writer);
        writer.writeRaw(payload, payloadOffset, header.storedLength);
    }

    /** Decodes a header and the stored bytes after it (no copy, no checksum check). */
    public static Batch decode(WireReader reader) throws MalformedMessageException {
        BatchHeader header = BatchHeader.decode(reader);
        int at = reader.skip(header.storedLength, "batch.payload");
        return new Batch(header, reader.array(), at);
    }
}
