package org.apache.spark.shuffle.sluice.protocol;

import java.util.List;

/**
 * A push to a worker: {@code ShuffleKey | role u8 | count u32 | PushEntry...}, each entry
 * {@code partitionId u32 | epoch u32 | hasReplica bool | [WorkerAddress] | Batch}. Travels as pushBatch with one
 * entry, pushBatches otherwise.
 */
public final class PushRequest {
    /** The most entries in one push. */
    public static final int MAX_ENTRIES = 65_536;

    private PushRequest() {
    }

    /** One entry: a batch for one partition epoch, naming the replica the primary forwards it to (or none). */
    public static final class Entry {
        public final int partitionId;
        public final int epoch;
        /** Replica worker id, host and data port; null id for no replica. */
        public final String replicaWorkerId;
        public final String replicaHost;
        public final int replicaPort;
        public final Batch batch;

        public Entry(int partitionId, int epoch, String replicaWorkerId, String replicaHost, int replicaPort,
                     Batch batch) {
            this.partitionId = partitionId;
            this.epoch = epoch;
            this.replicaWorkerId = replicaWorkerId;
            this.replicaHost = replicaHost;
            this.replicaPort = replicaPort;
            this.batch = batch;
        }
    }

    /** The frame type for a push of {@code entryCount} entries. */
    public static int frameType(int entryCount) {
        return entryCount == 1 ? MessageType.PUSH_BATCH : MessageType.PUSH_BATCHES;
    }

    public static byte[] encode(ShuffleKey key, int role, List<Entry> entries) {
        int capacity = 64;
        for (Entry entry : entries) {
            capacity += 64 + entry.batch.encodedBytes();
        }
        return encode(key, role, entries, new WireWriter(capacity)).toByteArray();
    }

    /**
     * Encodes the push into {@code writer} after emptying it; the body is {@code writer.buffer()[0, writer.size())}.
     * A push session keeps one writer for all its pushes, so that a push costs no new megabyte-sized array.
     */
    public static WireWriter encode(ShuffleKey key, int role, List<Entry> entries, WireWriter writer) {
        if (entries.isEmpty() || entries.size() > MAX_ENTRIES) {
            throw new IllegalArgumentException("push with " + entries.size() + " entries (1.." + MAX_ENTRIES + ")");
        }
        writer.reset();
        key.encode(writer);
        writer.writeU8(role).writeU32(entries.size());
        for (Entry entry : entries) {
            writer.writeU32(entry.partitionId & 0xFFFFFFFFL).writeU32(entry.epoch & 0xFFFFFFFFL);
            writer.writeBool(entry.replicaWorkerId != null);
            if (entry.replicaWorkerId != null) {
                writer.writeString(entry.replicaWorkerId).writeString(entry.replicaHost).writeU16(entry.replicaPort);
            }
            entry.batch.encode(writer);
        }
        return writer;
    }
}
