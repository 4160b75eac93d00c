package org.apache.spark.shuffle.sluice.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Round trips of every codec, the fall-back to none, and corruption detection. */
class BatchCodecTest {
    private final BatchCodec codec = new BatchCodec(1);

    private static byte[] compressible(int length) {
        byte[] text = "the quick brown fox jumps over the lazy dog 0123456789 ".getBytes(StandardCharsets.US_ASCII);
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = text[i % text.length];
        }
        return data;
    }

    private static byte[] random(int length, long seed) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }

    @Test
    void roundTripsEveryCodec() throws Exception {
        for (byte id : new byte[] {BatchHeader.CODEC_NONE, BatchHeader.CODEC_LZ4, BatchHeader.CODEC_ZSTD}) {
            for (byte[] raw : List.of(new byte[0], new byte[] {7}, compressible(100), compressible(1 << 20),
                    random(65_536, id))) {
                Batch batch = codec.encode(raw, 0, raw.length, id, 3, 44L, 5, true);
                assertEquals(raw.length, batch.header.rawLength);
                assertEquals(5, batch.header.sequence);
                assertTrue(batch.header.isLast());
                assertArrayEquals(raw, codec.decode(batch), "codec " + id + " length " + raw.length);
            }
        }
    }

    @Test
    void aBatchKeepsItsBytesWhenTheNextEncodeReusesTheCompressionTarget() throws Exception {
        for (byte id : new byte[] {BatchHeader.CODEC_LZ4, BatchHeader.CODEC_ZSTD}) {
            byte[] first = compressible(1 << 18);
            byte[] second = compressible(1 << 16); // smaller: the same target array is reused
            Arrays.fill(second, 0, 4096, (byte) 'x');
            Batch firstBatch = codec.encode(first, 0, first.length, id, 0, 0, 0, false);
            byte[] firstStored = firstBatch.payload.clone();
            Batch secondBatch = codec.encode(second, 0, second.length, id, 0, 0, 1, false);
            assertEquals(id, firstBatch.header.codec);
            assertNotSame(firstBatch.payload, secondBatch.payload);
            assertArrayEquals(firstStored, firstBatch.payload, "codec " + id);
            assertArrayEquals(first, codec.decode(firstBatch), "codec " + id);
            assertArrayEquals(second, codec.decodeVerified(secondBatch), "codec " + id);
        }
    }

    @Test
    void compressesWhenItShrinksAndFallsBackOtherwise() throws Exception {
        byte[] text = compressible(1 << 16);
        assertEquals(BatchHeader.CODEC_LZ4, codec.encode(text, 0, text.length, BatchHeader.CODEC_LZ4, 0, 0, 0, false)
                .header.codec);
        assertEquals(BatchHeader.CODEC_ZSTD, codec.encode(text, 0, text.length, BatchHeader.CODEC_ZSTD, 0, 0, 0, false)
                .header.codec);
        byte[] noise = random(4096, 1);
        Batch lz4 = codec.encode(noise, 0, noise.length, BatchHeader.CODEC_LZ4, 0, 0, 0, false);
        assertEquals(BatchHeader.CODEC_NONE, lz4.header.codec);
        assertEquals(noise.length, lz4.header.storedLength);
        Batch empty = codec.encode(new byte[0], 0, 0, BatchHeader.CODEC_ZSTD, 0, 0, 0, true);
        assertEquals(BatchHeader.CODEC_NONE, empty.header.codec);
        assertEquals(0, empty.header.storedLength);
    }

    @Test
    void encodesASubRangeAndCopies() throws Exception {
        byte[] raw = compressible(1000);
        Batch batch = codec.encode(raw, 100, 500, BatchHeader.CODEC_NONE, 0, 0, 0, false);
        raw[150] = 0;
        byte[] expected = compressible(1000);
        assertArrayEquals(java.util.Arrays.copyOfRange(expected, 100, 600), codec.decode(batch));
    }

    @Test
    void detectsCorruption() throws Exception {
        byte[] raw = compressible(10_000);
        for (byte id : new byte[] {BatchHeader.CODEC_NONE, BatchHeader.CODEC_LZ4, BatchHeader.CODEC_ZSTD}) {
            Batch batch = codec.encode(raw, 0, raw.length, id, 0, 0, 0, false);
            batch.payload[batch.payloadOffset + 3] ^= 0x40;
            assertThrows(CorruptBatchException.class, () -> codec.decode(batch));
        }
        // Garbage with a valid checksum must fail decompression cleanly, never crash.
        byte[] garbage = random(64, 9);
        for (byte id : new byte[] {BatchHeader.CODEC_LZ4, BatchHeader.CODEC_ZSTD}) {
            BatchHeader header = new BatchHeader(0, 0, 0, 0, id, 1000, garbage.length, Crc32c.checksum(garbage, 0, 64));
            assertThrows(CorruptBatchException.class, () -> codec.decode(new Batch(header, garbage, 0)));
        }
        // Valid compressed data with a wrong raw length.
        Batch good = codec.encode(raw, 0, raw.length, BatchHeader.CODEC_LZ4, 0, 0, 0, false);
        BatchHeader wrong = new BatchHeader(0, 0, 0, 0, BatchHeader.CODEC_LZ4, raw.length + 1,
                good.header.storedLength, good.header.crc32c);
        assertThrows(CorruptBatchException.class, () -> codec.decode(new Batch(wrong, good.payload, 0)));
    }

    @Test
    void splitsChunks() throws Exception {
        WireWriter chunk = new WireWriter();
        for (int sequence = 0; sequence < 3; sequence++) {
            byte[] raw = compressible(1000 * (sequence + 1));
            codec.encode(raw, 0, raw.length, BatchHeader.CODEC_LZ4, 2, 9, sequence, sequence == 2).encode(chunk);
        }
        byte[] bytes = chunk.toByteArray();
        List<Batch> batches = BatchCodec.splitBatches(bytes, 0, bytes.length);
        assertEquals(3, batches.size());
        for (int sequence = 0; sequence < 3; sequence++) {
            assertArrayEquals(compressible(1000 * (sequence + 1)), codec.decode(batches.get(sequence)));
        }
        assertThrows(CorruptBatchException.class, () -> BatchCodec.splitBatches(bytes, 0, bytes.length - 1));
    }
}
