package org.apache.spark.shuffle.sluice.protocol;

import com.github.luben.zstd.Zstd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Turns raw record bytes into batches and back: compression (LZ4 block format or one Zstandard frame), CRC32C of
 * the stored bytes, and every check on the way out. Compatible with the Swift servers' liblz4
 * ({@code LZ4_compress_default} / {@code LZ4_decompress_safe} with the known raw length) and libzstd. Not
 * thread-safe: it keeps one compression target that every {@link #encode} reuses, so each push session and each
 * partition reader has its own.
 */
public final class BatchCodec {
    private static final LZ4Factory LZ4 = LZ4Factory.fastestInstance();

    private final LZ4Compressor lz4Compressor = LZ4.fastCompressor();
    private final LZ4SafeDecompressor lz4Decompressor = LZ4.safeDecompressor();
    private final int zstdLevel;
    /** Compression output, reused by every encode; its result is copied out at the compressed length. */
    private byte[] compressTarget = new byte[0];

    public BatchCodec(int zstdLevel) {
        this.zstdLevel = zstdLevel;
    }

    /**
     * Compresses {@code raw[offset, offset+length)} with {@code codec} into a batch; falls back to codec none when
     * compression does not shrink the data. The result owns its bytes (the caller may reuse {@code raw}).
     */
    public Batch encode(byte[] raw, int offset, int length, byte codec, int mapIndex, long attemptId, int sequence,
                        boolean last) throws ProtocolException {
        if (length < 0 || offset < 0 || offset + length > raw.length) {
            throw new ProtocolException(StatusCode.INVALID_ARGUMENT, "range " + offset + "+" + length + " of "
                    + raw.length + " bytes");
        }
        if (length > BatchHeader.MAX_BATCH_BYTES) {
            throw new ProtocolException(StatusCode.INVALID_ARGUMENT, "batch of " + length + " raw bytes exceeds "
                    + BatchHeader.MAX_BATCH_BYTES);
        }
        byte[] stored = compress(raw, offset, length, codec);
        byte usedCodec = codec;
        if (codec != BatchHeader.CODEC_NONE && stored.length >= length) {
            usedCodec = BatchHeader.CODEC_NONE;
            stored = null;
        }
        if (stored == null) {
            stored = Arrays.copyOfRange(raw, offset, offset + length);
        }
        BatchHeader header = new BatchHeader(mapIndex, attemptId, sequence, last ? BatchHeader.FLAG_LAST : 0,
                usedCodec, length, stored.length, Crc32c.checksum(stored, 0, stored.length));
        return new Batch(header, stored, 0);
    }

    /** Compressed bytes, or null for codec none (the caller copies). */
    private byte[] compress(byte[] raw, int offset, int length, byte codec) throws ProtocolException {
        switch (codec) {
            case BatchHeader.CODEC_NONE:
                return null;
            case BatchHeader.CODEC_LZ4: {
                byte[] target = compressTarget(lz4Compressor.maxCompressedLength(length));
                int written = lz4Compressor.compress(raw, offset, length, target, 0, target.length);
                return Arrays.copyOf(target, written);
            }
            case BatchHeader.CODEC_ZSTD: {
                byte[] target = compressTarget((int) Math.min(Integer.MAX_VALUE - 16, Zstd.compressBound(length)));
                long written = Zstd.compressByteArray(target, 0, target.length, raw, offset, length, zstdLevel);
                if (Zstd.isError(written)) {
                    throw new ProtocolException(StatusCode.INTERNAL_ERROR, "zstd compression of " + length
                            + " bytes failed: " + Zstd.getErrorName(written));
                }
                return Arrays.copyOf(target, (int) written);
            }
            default:
                throw new ProtocolException(StatusCode.INVALID_ARGUMENT, "unknown codec " + codec);
        }
    }

    /** The reused compression target, grown to at least {@code bytes}. */
    private byte[] compressTarget(int bytes) {
        if (compressTarget.length < bytes) {
            compressTarget = new byte[bytes];
        }
        return compressTarget;
    }

    /**
     * Checks a batch without decompressing it: lengths within limits, raw equal to stored for codec none, CRC32C
     * of the stored bytes equal to the header's. Throws {@link CorruptBatchException} saying what failed.
     */
    public static void verify(Batch batch) throws CorruptBatchException {
        BatchHeader header = batch.header;
        if (header.storedLength < 0 || header.rawLength < 0 || header.storedLength > BatchHeader.MAX_BATCH_BYTES
                || header.rawLength > BatchHeader.MAX_BATCH_BYTES) {
            throw corrupt(header, "lengths out of range");
        }
        if (batch.payloadOffset + (long) header.storedLength > batch.payload.length) {
            throw corrupt(header, "payload shorter than " + header.storedLength + " bytes");
        }
        if (header.codec == BatchHeader.CODEC_NONE && header.rawLength != header.storedLength) {
            throw corrupt(header, "codec none with raw length " + header.rawLength + " != stored "
                    + header.storedLength);
        }
        int actual = Crc32c.checksum(batch.payload, batch.payloadOffset, header.storedLength);
        if (actual != header.crc32c) {
            throw corrupt(header, "CRC32C mismatch: header 0x" + Integer.toHexString(header.crc32c) + ", payload 0x"
                    + Integer.toHexString(actual));
        }
    }

    /** Verifies the batch, then returns its raw bytes, decompressed to exactly {@code rawLength}. */
    public byte[] decode(Batch batch) throws CorruptBatchException {
        verify(batch);
        return decodeVerified(batch);
    }

    /**
     * Returns the raw bytes of a batch that {@link #verify} has already accepted (so its CRC32C is computed once),
     * decompressed to exactly {@code rawLength}, in a new array that the caller owns.
     */
    public byte[] decodeVerified(Batch batch) throws CorruptBatchException {
        BatchHeader header = batch.header;
        byte[] src = batch.payload;
        int srcOffset = batch.payloadOffset;
        int storedLength = header.storedLength;
        switch (header.codec) {
            case BatchHeader.CODEC_NONE:
                return Arrays.copyOfRange(src, srcOffset, srcOffset + storedLength);
            case BatchHeader.CODEC_LZ4: {
                byte[] raw = new byte[header.rawLength];
                int produced;
                try {
                    produced = lz4Decompressor.decompress(src, srcOffset, storedLength, raw, 0, raw.length);
                } catch (RuntimeException e) {
                    throw corrupt(header, "invalid LZ4 data: " + e.getMessage());
                }
                if (produced != header.rawLength) {
                    throw corrupt(header, "LZ4 data expands to " + produced + " bytes, expected " + header.rawLength);
                }
                return raw;
            }
            case BatchHeader.CODEC_ZSTD: {
                byte[] raw = new byte[header.rawLength];
                long produced;
                try {
                    produced = Zstd.decompressByteArray(raw, 0, raw.length, src, srcOffset, storedLength);
                } catch (RuntimeException e) {
                    throw corrupt(header, "invalid zstd data: " + e.getMessage());
                }
                if (Zstd.isError(produced)) {
                    throw corrupt(header, "invalid zstd data: " + Zstd.getErrorName(produced));
                }
                if (produced != header.rawLength) {
                    throw corrupt(header, "zstd data expands to " + produced + " bytes, expected " + header.rawLength);
                }
                return raw;
            }
            default:
                throw corrupt(header, "unknown codec " + header.codec);
        }
    }

    /**
     * Splits a buffer of concatenated batches (a fetched chunk). Payloads are ranges of {@code bytes} (no copy) and
     * are not verified yet. Throws {@link CorruptBatchException} naming the batch and offset when the buffer is
     * truncated or a header is invalid.
     */
    public static List<Batch> splitBatches(byte[] bytes, int offset, int length) throws CorruptBatchException {
        WireReader reader = new WireReader(bytes, offset, length);
        List<Batch> batches = new ArrayList<>();
        while (reader.remaining() > 0) {
            int at = reader.position() - offset;
            try {
                batches.add(Batch.decode(reader));
            } catch (MalformedMessageException e) {
                throw new CorruptBatchException("chunk of " + length + " bytes, batch " + batches.size()
                        + " at offset " + at + ": " + e.getMessage());
            }
        }
        return batches;
    }

    private static CorruptBatchException corrupt(BatchHeader header, String detail) {
        return new CorruptBatchException(header.describe() + ": " + detail);
    }
}
