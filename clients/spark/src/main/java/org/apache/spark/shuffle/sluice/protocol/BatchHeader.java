package org.apache.spark.shuffle.sluice.protocol;

/**
 * The 32-byte header in front of every batch, big-endian: {@code mapIndex u32 | attemptId u64 | sequence u32 |
 * flags u8 | codec u8 | reserved u16 (0) | rawLength u32 | storedLength u32 | crc32c u32}.
 */
public final class BatchHeader {
    public static final int BYTES = 32;
    /** The largest raw or stored batch accepted anywhere: 64 MiB. */
    public static final int MAX_BATCH_BYTES = 64 << 20;
    /** Flag bit: the last batch of this (map index, attempt, partition). */
    public static final int FLAG_LAST = 1;
    public static final byte CODEC_NONE = 0;
    public static final byte CODEC_LZ4 = 1;
    public static final byte CODEC_ZSTD = 2;

    public final int mapIndex;
    public final long attemptId;
    public final int sequence;
    public final int flags;
    public final byte codec;
    public final int rawLength;
    public final int storedLength;
    public final int crc32c;

    public BatchHeader(int mapIndex, long attemptId, int sequence, int flags, byte codec, int rawLength,
                       int storedLength, int crc32c) {
        this.mapIndex = mapIndex;
        this.attemptId = attemptId;
        this.sequence = sequence;
        this.flags = flags;
        this.codec = codec;
        this.rawLength = rawLength;
        this.storedLength = storedLength;
        this.crc32c = crc32c;
    }

    public boolean isLast() {
        return (flags & FLAG_LAST) != 0;
    }

    public void encode(WireWriter writer) {
        writer.writeU32(mapIndex & 0xFFFFFFFFL).writeU64(attemptId).writeU32(sequence & 0xFFFFFFFFL)
                .writeU8(flags).writeU8(codec).writeU16(0)
                .writeU32(rawLength).writeU32(storedLength).writeU32(crc32c & 0xFFFFFFFFL);
    }

    /**
     * Decodes and validates a header: known codec and flags, zero reserved bits, lengths within
     * {@link #MAX_BATCH_BYTES}, stored equal to raw for codec none.
     */
    public static BatchHeader decode(WireReader reader) throws MalformedMessageException {
        int mapIndex = (int) reader.readU32("batch.mapIndex");
        long attemptId = reader.readU64("batch.attemptId");
        int sequence = (int) reader.readU32("batch.sequence");
        int flags = reader.readU8("batch.flags");
        int codec = reader.readU8("batch.codec");
        int reserved = reader.readU16("batch.reserved");
        long rawLength = reader.readU32("batch.rawLength");
        long storedLength = reader.readU32("batch.storedLength");
        int crc = (int) reader.readU32("batch.crc32c");
        if (codec > CODEC_ZSTD) {
            throw new MalformedMessageException("unknown batch codec " + codec);
        }
        if ((flags & ~FLAG_LAST) != 0 || reserved != 0) {
            throw new MalformedMessageException("unknown batch flags 0x" + Integer.toHexString(flags)
                    + " or reserved bits 0x" + Integer.toHexString(reserved));
        }
        if (rawLength > MAX_BATCH_BYTES || storedLength > MAX_BATCH_BYTES) {
            throw new MalformedMessageException("batch of " + rawLength + " raw / " + storedLength
                    + " stored bytes exceeds " + MAX_BATCH_BYTES);
        }
        if (codec == CODEC_NONE && rawLength != storedLength) {
            throw new MalformedMessageException("uncompressed batch with raw length " + rawLength
                    + " != stored length " + storedLength);
        }
        return new BatchHeader(mapIndex, attemptId, sequence, flags, (byte) codec, (int) rawLength,
                (int) storedLength, crc);
    }

    /** Names the batch for error messages. */
    public String describe() {
        return "batch map " + Integer.toUnsignedString(mapIndex) + " attempt " + attemptId + " seq "
                + Integer.toUnsignedString(sequence) + " (" + codecName(codec) + ")";
    }

    public static String codecName(int codec) {
        switch (codec) {
            case CODEC_NONE: return "none";
            case CODEC_LZ4: return "lz4";
            case CODEC_ZSTD: return "zstd";
            default: return "codec" + codec;
        }
    }
}
