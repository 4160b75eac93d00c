package org.apache.spark.shuffle.sluice.net;

/** How a {@link Connection} connects and bounds its requests. */
public final class ConnectionSettings {
    public final int connectTimeoutMs;
    public final int requestTimeoutMs;
    /** Requests awaiting a response on one connection; a further request blocks until one completes. */
    public final int maxInFlightRequests;
    /** Largest response body accepted; checked before allocating. */
    public final int maxFrameBodyBytes;

    public ConnectionSettings(int connectTimeoutMs, int requestTimeoutMs, int maxInFlightRequests,
                              int maxFrameBodyBytes) {
        if (connectTimeoutMs <= 0 || requestTimeoutMs <= 0 || maxInFlightRequests <= 0 || maxFrameBodyBytes <= 0) {
            throw new IllegalArgumentException("connection settings must be positive");
        }
        this.connectTimeoutMs = connectTimeoutMs;
        this.requestTimeoutMs = requestTimeoutMs;
        this.maxInFlightRequests = maxInFlightRequests;
        this.maxFrameBodyBytes = maxFrameBodyBytes;
    }
}
