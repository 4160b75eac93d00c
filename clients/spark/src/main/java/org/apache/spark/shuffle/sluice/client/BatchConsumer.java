package org.apache.spark.shuffle.sluice.client;

import java.io.IOException;

/** Receives the verified, decompressed batches of winning attempts from a {@link PartitionReader}. */
public interface BatchConsumer {
    /**
     * One batch: {@code raw[offset, offset+length)}. The reader allocates {@code raw} for this call alone, so the
     * consumer may keep it instead of copying it.
     */
    void accept(int mapIndex, long attemptId, int sequence, byte[] raw, int offset, int length) throws IOException;
}
