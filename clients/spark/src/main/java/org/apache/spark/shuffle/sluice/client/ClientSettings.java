package org.apache.spark.shuffle.sluice.client;

/** Client settings: plain fields with defaults. Set them before creating a {@link SluiceClient}. */
public final class ClientSettings {
    public String masterHost = "127.0.0.1";
    public int masterPort = 9097;
    /** Codec of pushed batches: {@link Codec#NONE}, {@link Codec#LZ4} or {@link Codec#ZSTD}. */
    public byte codec = Codec.LZ4;
    public int zstdLevel = 1;
    /** Small batches for one worker are merged into one push up to this many bytes. */
    public int mergedPushBytes = 1 << 20;
    /** Requests awaiting a response per worker connection. */
    public int maxInFlightPushesPerWorker = 32;
    /** Pushes awaiting acknowledgement per PushSession. */
    public int maxInFlightPushesTotal = 256;
    /** How often one batch may be revived and resent before the session fails. */
    public int maxPushRetries = 5;
    public int connectTimeoutMs = 10_000;
    public int requestTimeoutMs = 120_000;
    /** Chunk fetches in flight per stream. */
    public int fetchWindowChunks = 4;
    /** Ask the master for a replica of every partition. */
    public boolean replicate = true;

    /** Largest response body a client accepts: a chunk may exceed the chunk target by one batch. */
    public int maxResponseBodyBytes = 256 << 20;
}
