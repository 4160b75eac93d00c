package org.apache.spark.shuffle.sluice;

import java.io.OutputStream;
import java.util.Arrays;
import org.apache.spark.serializer.SerializationStream;
import org.apache.spark.serializer.SerializerInstance;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * The serialized, not yet pushed records of one reduce partition: a growable byte array, written either through a
 * serialization stream of its own ({@link #write(Object, Object)}, for serializers whose records cannot be relocated)
 * or by the map task's one {@link SharedRecordStream}. The array grows by doubling from {@link #INITIAL_BUFFER_BYTES}, but not past {@code fullBytes}
 * (the push buffer size plus slack for the record that crosses it) unless one record needs more. After a cut the
 * array is either kept for the partition's next batch or dropped ({@link BufferRetention} decides).
 */
final class PartitionBuffer extends OutputStream {
    private static final ClassTag<Object> ANY = ClassTag$.MODULE$.Any();
    /** Initial capacity of a partition buffer; it doubles as needed. */
    static final int INITIAL_BUFFER_BYTES = 4096;
    /** Room above the push buffer size for the write that crosses it (the serializer flushes 8 KiB at a time). */
    static final int FULL_SLACK_BYTES = 16 << 10;

    private final SerializerInstance serializer;
    private final int shuffleId;
    final int partitionId;
    private final int pushBufferBytes;
    private final int fullBytes;
    byte[] bytes = new byte[0];
    int size;
    /** Capacity counted by {@link BufferRetention} for the kept array, 0 when none is kept. */
    long retainedBytes;
    private SerializationStream stream;
    private boolean hasRecords;

    /** {@code pushBufferBytes}: the size at which the writer cuts a batch. */
    PartitionBuffer(SerializerInstance serializer, int shuffleId, int partitionId, int pushBufferBytes) {
        this.serializer = serializer;
        this.shuffleId = shuffleId;
        this.partitionId = partitionId;
        this.pushBufferBytes = pushBufferBytes;
        this.fullBytes = (int) Math.min((long) pushBufferBytes + FULL_SLACK_BYTES, Integer.MAX_VALUE - 16);
    }

    long size() {
        return size;
    }

    int capacity() {
        return bytes.length;
    }

    /** Whether the array holds a whole batch (the push buffer size), so that keeping it spares the next its growth. */
    boolean isFullSize() {
        return bytes.length >= pushBufferBytes;
    }

    boolean hasRecords() {
        return hasRecords;
    }

    /** Serializes one record through this partition's own stream (opened on the first record of each batch). */
    void write(Object key, Object value) {
        if (stream == null) {
            stream = serializer.serializeStream(this);
        }
        stream.writeKey(key, ANY);
        stream.writeValue(value, ANY);
        hasRecords = true;
    }

    /** Records that a {@link SharedRecordStream} appended one whole record. */
    void noteRecord() {
        hasRecords = true;
    }

    /** Flushes and closes the stream, so the bytes are one complete serialization stream. */
    void closeStream() {
        if (stream != null) {
            stream.close();
            stream = null;
        }
    }

    /** Empties the buffer after a cut; {@code keepArray} keeps its storage for the next batch, else it is dropped. */
    void empty(boolean keepArray) {
        if (!keepArray) {
            bytes = new byte[0];
        }
        size = 0;
        hasRecords = false;
    }

    @Override
    public void write(int b) {
        ensureCapacity(1);
        bytes[size++] = (byte) b;
    }

    @Override
    public void write(byte[] source, int offset, int length) {
        ensureCapacity(length);
        System.arraycopy(source, offset, bytes, size, length);
        size += length;
    }

    /** Closing the stream closes this sink too; the bytes stay until {@link #empty}. */
    @Override
    public void close() {
    }

    private void ensureCapacity(int more) {
        long needed = (long) size + more;
        if (needed > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("partition " + partitionId + " buffer of shuffle " + shuffleId
                    + " would exceed 2 GiB: one record is too large");
        }
        if (needed > bytes.length) {
            long grown = Math.max(Math.max(INITIAL_BUFFER_BYTES, needed), 2L * bytes.length);
            if (needed <= fullBytes) {
                grown = Math.min(grown, fullBytes);
            }
            bytes = Arrays.copyOf(bytes, (int) Math.min(grown, Integer.MAX_VALUE - 16));
        }
    }
}
