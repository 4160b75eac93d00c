package org.apache.spark.shuffle.sluice;

/**
 * Decides, for one map task, which emptied partition arrays are kept for their partition's next batch. A partition
 * that filled a whole batch is likely to fill another, and keeping its array spares the next batch the array's
 * regrowth (a copy at every doubling) and the garbage. Only full-size arrays are kept, never after the partition's
 * last batch, and the kept arrays together hold at most {@code limitBytes} (the writer's
 * {@code spark.sluice.writer.bufferMemory}), so a task with many partitions keeps only some.
 */
final class BufferRetention {
    private final long limitBytes;
    private long retainedBytes;

    BufferRetention(long limitBytes) {
        this.limitBytes = limitBytes;
    }

    /** Empties {@code buffer} after its batch was handed to the push session, keeping or dropping its array. */
    void empty(PartitionBuffer buffer, boolean last) {
        retainedBytes -= buffer.retainedBytes;
        boolean keep = !last && buffer.isFullSize() && retainedBytes + buffer.capacity() <= limitBytes;
        buffer.empty(keep);
        buffer.retainedBytes = keep ? buffer.capacity() : 0;
        retainedBytes += buffer.retainedBytes;
    }

    /** Bytes of the arrays kept now. */
    long retainedBytes() {
        return retainedBytes;
    }
}
