package org.apache.spark.shuffle.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;

/** Partition buffers: growth capped at a full batch, and which emptied arrays a map task keeps. */
class PartitionBufferTest {
    private static final int PUSH_BYTES = 64 << 10;
    private static final SerializerInstance SERIALIZER = new JavaSerializer(new SparkConf()).newInstance();

    private static PartitionBuffer buffer(int partitionId) {
        return new PartitionBuffer(SERIALIZER, 1, partitionId, PUSH_BYTES);
    }

    /** Writes {@code count} bytes of value {@code fill} in 8 KiB pieces, as the serializer's buffered stream does. */
    private static void fill(PartitionBuffer buffer, int count, byte fill) {
        byte[] piece = new byte[8 << 10];
        Arrays.fill(piece, fill);
        for (int written = 0; written < count; written += piece.length) {
            buffer.write(piece, 0, Math.min(piece.length, count - written));
        }
    }

    @Test
    void growthStopsAtAFullBatchUnlessOneWriteNeedsMore() {
        PartitionBuffer buffer = buffer(0);
        fill(buffer, PUSH_BYTES + 1, (byte) 1);
        assertEquals(PUSH_BYTES + PartitionBuffer.FULL_SLACK_BYTES, buffer.capacity());
        assertTrue(buffer.isFullSize());
        byte[] large = new byte[PUSH_BYTES * 2];
        buffer.write(large, 0, large.length);
        assertEquals(PUSH_BYTES * 3 + 1, buffer.size);
        assertTrue(buffer.capacity() >= buffer.size);
    }

    @Test
    void aFullBufferKeepsItsArrayForTheNextBatchAndReadsBackOnlyNewBytes() {
        BufferRetention retention = new BufferRetention(1 << 20);
        PartitionBuffer buffer = buffer(0);
        fill(buffer, PUSH_BYTES + 1, (byte) 1);
        byte[] array = buffer.bytes;
        retention.empty(buffer, false);
        assertSame(array, buffer.bytes);
        assertEquals(0, buffer.size);
        assertEquals(array.length, retention.retainedBytes());

        fill(buffer, 100, (byte) 2);
        assertSame(array, buffer.bytes);
        byte[] expected = new byte[100];
        Arrays.fill(expected, (byte) 2);
        assertEquals(100, buffer.size);
        assertTrue(Arrays.equals(expected, Arrays.copyOf(buffer.bytes, buffer.size)), "only the new batch's bytes");

        retention.empty(buffer, false); // emptied again: counted once, not twice
        assertEquals(array.length, retention.retainedBytes());
    }

    @Test
    void aBufferThatFilledExactlyToThePushSizeIsKept() {
        BufferRetention retention = new BufferRetention(1 << 20);
        PartitionBuffer buffer = buffer(0);
        fill(buffer, PUSH_BYTES, (byte) 1); // doubling from 4 KiB lands exactly on the push size
        assertEquals(PUSH_BYTES, buffer.capacity());
        retention.empty(buffer, false);
        assertEquals(PUSH_BYTES, buffer.capacity());
        assertEquals(PUSH_BYTES, retention.retainedBytes());
    }

    @Test
    void theLastBatchAndBuffersCutBeforeFullSizeDropTheirArrays() {
        BufferRetention retention = new BufferRetention(1 << 20);
        PartitionBuffer full = buffer(0);
        fill(full, PUSH_BYTES, (byte) 1);
        retention.empty(full, false);
        long kept = retention.retainedBytes();
        assertTrue(kept > 0);
        fill(full, PUSH_BYTES, (byte) 1);
        retention.empty(full, true);
        assertEquals(0, full.capacity());
        assertEquals(0, retention.retainedBytes());

        PartitionBuffer small = buffer(1); // cut early by the writer's memory limit
        fill(small, 1000, (byte) 3);
        retention.empty(small, false);
        assertEquals(0, small.capacity());
        assertEquals(0, retention.retainedBytes());
    }

    @Test
    void keptArraysStayWithinTheLimit() {
        int full = PUSH_BYTES + PartitionBuffer.FULL_SLACK_BYTES;
        BufferRetention retention = new BufferRetention(full + full / 2);
        PartitionBuffer first = buffer(0);
        PartitionBuffer second = buffer(1);
        fill(first, PUSH_BYTES + 1, (byte) 1);
        fill(second, PUSH_BYTES + 1, (byte) 1);
        byte[] secondArray = second.bytes;
        retention.empty(first, false);
        retention.empty(second, false);
        assertEquals(full, first.capacity());
        assertEquals(0, second.capacity());
        assertNotSame(secondArray, second.bytes);
        assertEquals(full, retention.retainedBytes());

        retention.empty(first, true); // its last batch frees room for another partition
        fill(second, PUSH_BYTES + 1, (byte) 1);
        retention.empty(second, false);
        assertEquals(full, second.capacity());
        assertEquals(full, retention.retainedBytes());
    }
}
