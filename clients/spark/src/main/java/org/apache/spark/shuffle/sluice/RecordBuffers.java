package org.apache.spark.shuffle.sluice;

import java.util.Arrays;
import org.apache.spark.serializer.Serializer;

/**
 * A map task's partition buffers and the way records are serialized into them: through one {@link SharedRecordStream}
 * for the whole task when the serializer supports relocation of serialized objects, else through a stream per
 * partition buffer. Either way a buffer's bytes, cut at any record boundary, are one complete serialization stream.
 */
final class RecordBuffers {
    private final Serializer serializer;
    private final org.apache.spark.serializer.SerializerInstance instance;
    private final int shuffleId;
    private final int pushBufferBytes;
    private final PartitionBuffer[] buffers;
    private SharedRecordStream shared;

    RecordBuffers(Serializer serializer, int shuffleId, int numPartitions, int pushBufferBytes) {
        this.serializer = serializer;
        this.instance = serializer.newInstance();
        this.shuffleId = shuffleId;
        this.pushBufferBytes = pushBufferBytes;
        this.buffers = new PartitionBuffer[numPartitions];
        if (serializer.supportsRelocationOfSerializedObjects()) {
            shared = new SharedRecordStream(instance, shuffleId);
        }
    }

    /** Whether records go through one stream for the whole task. */
    boolean sharesOneStream() {
        return shared != null;
    }

    /** Serializes one record into its partition's buffer and returns that buffer. */
    PartitionBuffer write(int partitionId, Object key, Object value) {
        PartitionBuffer buffer = buffers[partitionId];
        if (buffer == null) {
            buffer = new PartitionBuffer(instance, shuffleId, partitionId, pushBufferBytes);
            buffers[partitionId] = buffer;
        }
        if (shared != null) {
            shared.write(buffer, key, value);
        } else {
            buffer.write(key, value);
        }
        return buffer;
    }

    /** The buffers created so far, indexed by partition (null where a partition got no record). */
    PartitionBuffer[] all() {
        return buffers;
    }

    /** Closes the shared stream, if any (idempotent); the buffers' bytes stay. */
    void closeSharedStream() {
        if (shared != null) {
            shared.finish();
            shared = null;
        }
    }

    /** Drops every buffer and closes the shared stream. */
    void clear() {
        closeSharedStream();
        Arrays.fill(buffers, null);
    }

    @Override
    public String toString() {
        return "RecordBuffers(" + serializer.getClass().getSimpleName() + ", shared " + (shared != null) + ")";
    }
}
