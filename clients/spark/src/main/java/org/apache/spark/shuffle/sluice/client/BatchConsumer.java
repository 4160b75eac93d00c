package org.apache.spark.shuffle.sluice.client;

import java.io.IOException;

/** Receives the verified, decompressed batches of winning attempts from a {@link PartitionReader}. */
public interface BatchConsumer {
    /** One batch; {@code raw} is only valid during the call. */
    void accept(int mapIndex, long attemptId, int sequence, byte[] raw, int offset, int length) throws IOException;
}
