package org.apache.spark.shuffle.sluice.protocol;

/**
 * Encoders of the client's request bodies and decoders of the responses that carry more than a head
 * (docs/protocol.md). Location tables are decoded by {@code client.LocationTable}.
 */
public final class Messages {
    /** Map range meaning "every map" in openStream. */
    public static final long ALL_MAPS_END = 0xFFFFFFFFL;
    /** acceptedCodecs mask: none, LZ4 and Zstandard. */
    public static final int ALL_CODECS_MASK = 0b111;
    /** Partition role of a copy: the primary. */
    public static final int ROLE_PRIMARY = 0;
    /** Partition role of a copy: the replica. */
    public static final int ROLE_REPLICA = 1;
    /** The most partitions one shuffle may have. */
    public static final int MAX_PARTITIONS = 1 << 24;

    private Messages() {
    }

    /** registerShuffle: {@code ShuffleKey | numMappers u32 | numPartitions u32 | replicate bool}. */
    public static byte[] registerShuffle(ShuffleKey key, int numMappers, int numPartitions, boolean replicate) {
        WireWriter writer = new WireWriter();
        key.encode(writer);
        return writer.writeU32(numMappers & 0xFFFFFFFFL).writeU32(numPartitions & 0xFFFFFFFFL).writeBool(replicate)
                .toByteArray();
    }

    /** getLocations and unregisterShuffle: {@code ShuffleKey}. */
    public static byte[] shuffleKey(ShuffleKey key) {
        WireWriter writer = new WireWriter();
        key.encode(writer);
        return writer.toByteArray();
    }

    /** revive: {@code ShuffleKey | partitionId u32 | failedEpoch u32 | failedWorkerId string}. */
    public static byte[] revive(ShuffleKey key, int partitionId, int failedEpoch, String failedWorkerId) {
        WireWriter writer = new WireWriter();
        key.encode(writer);
        return writer.writeU32(partitionId & 0xFFFFFFFFL).writeU32(failedEpoch & 0xFFFFFFFFL)
                .writeString(failedWorkerId).toByteArray();
    }

    /** applicationHeartbeat and unregisterApplication: {@code applicationId string}. */
    public static byte[] application(String applicationId) {
        return new WireWriter().writeString(applicationId).toByteArray();
    }

    /**
     * openStream: {@code ShuffleKey | partitionId u32 | epoch u32 | role u8 | startMapIndex u32 | endMapIndex u32 |
     * acceptedCodecs u8}.
     */
    public static byte[] openStream(ShuffleKey key, int partitionId, int epoch, int role, long startMapIndex,
                                    long endMapIndex, int acceptedCodecs) {
        WireWriter writer = new WireWriter();
        key.encode(writer);
        return writer.writeU32(partitionId & 0xFFFFFFFFL).writeU32(epoch & 0xFFFFFFFFL).writeU8(role)
                .writeU32(startMapIndex).writeU32(endMapIndex).writeU8(acceptedCodecs).toByteArray();
    }

    /** fetchChunk: {@code streamId u64 | chunkIndex u32}. */
    public static byte[] fetchChunk(long streamId, int chunkIndex) {
        return new WireWriter().writeU64(streamId).writeU32(chunkIndex & 0xFFFFFFFFL).toByteArray();
    }

    /** closeStream: {@code streamId u64}. */
    public static byte[] closeStream(long streamId) {
        return new WireWriter().writeU64(streamId).toByteArray();
    }

    /** A response that is only a head (heartbeats, unregister, close stream); the whole body must be consumed. */
    public static ResponseHead decodeStatus(byte[] body) throws MalformedMessageException {
        WireReader reader = new WireReader(body);
        ResponseHead head = ResponseHead.decode(reader);
        reader.expectEnd("status response");
        return head;
    }

    /** The openStream answer: {@code head | streamId u64 | chunkCount u32 | storedBytes u64} (fields when ok). */
    public static final class OpenStreamResponse {
        public final ResponseHead head;
        public final long streamId;
        public final int chunkCount;
        public final long storedBytes;

        OpenStreamResponse(ResponseHead head, long streamId, int chunkCount, long storedBytes) {
            this.head = head;
            this.streamId = streamId;
            this.chunkCount = chunkCount;
            this.storedBytes = storedBytes;
        }
    }

    public static OpenStreamResponse decodeOpenStream(byte[] body) throws MalformedMessageException {
        WireReader reader = new WireReader(body);
        ResponseHead head = ResponseHead.decode(reader);
        if (!head.isOk()) {
            return new OpenStreamResponse(head, 0, 0, 0);
        }
        long streamId = reader.readU64("streamId");
        int chunkCount = reader.readU32AsInt("chunkCount");
        long storedBytes = reader.readU64("storedBytes");
        reader.expectEnd("openStream response");
        return new OpenStreamResponse(head, streamId, chunkCount, storedBytes);
    }

    /** The fetchChunk answer: {@code head | dataLength u32 | data}; the data is a range of the body (no copy). */
    public static final class ChunkResponse {
        public final ResponseHead head;
        public final byte[] body;
        public final int dataOffset;
        public final int dataLength;

        ChunkResponse(ResponseHead head, byte[] body, int dataOffset, int dataLength) {
            this.head = head;
            this.body = body;
            this.dataOffset = dataOffset;
            this.dataLength = dataLength;
        }
    }

    public static ChunkResponse decodeFetchChunk(byte[] body) throws MalformedMessageException {
        WireReader reader = new WireReader(body);
        ResponseHead head = ResponseHead.decode(reader);
        if (!head.isOk()) {
            return new ChunkResponse(head, body, 0, 0);
        }
        int length = reader.readU32AsInt("chunk.dataLength");
        int at = reader.skip(length, "chunk.data");
        reader.expectEnd("fetchChunk response");
        return new ChunkResponse(head, body, at, length);
    }

    /**
     * The push answer: {@code head | count u32 | status u16...}, one status per entry; a head-only answer applies the
     * head's status (internalError when it says ok) to every one of {@code entryCount} entries.
     */
    public static int[] decodePushStatuses(byte[] body, int entryCount) throws MalformedMessageException {
        WireReader reader = new WireReader(body);
        ResponseHead head = ResponseHead.decode(reader);
        int[] statuses = null;
        if (reader.remaining() > 0) {
            int count = reader.readCount("entryStatuses", 2);
            statuses = new int[count];
            for (int i = 0; i < count; i++) {
                statuses[i] = StatusCode.decode(reader.readU16("entryStatus"));
            }
            reader.expectEnd("push response");
        }
        if (statuses == null || statuses.length != entryCount) {
            statuses = new int[entryCount];
            java.util.Arrays.fill(statuses, head.isOk() ? StatusCode.INTERNAL_ERROR : head.status);
        }
        return statuses;
    }
}
