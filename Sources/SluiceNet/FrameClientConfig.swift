/// Settings of a `FrameClient`. Units are in the names.
public struct FrameClientConfig: Sendable {
    /// Time allowed for the TCP connect and, separately, for the handshake reply.
    public var connectTimeoutMs: Int
    /// Default time-out of a request, from when it is sent until its response arrives.
    public var requestTimeoutMs: Int
    /// Requests awaiting a response at once; `send`/`call` wait for a free slot (within the request time-out).
    public var maxInFlightRequests: Int
    /// Largest response body accepted; a longer one fails the connection.
    public var maxFrameBodyBytes: Int
    /// A request write blocked this long (server not reading) fails and closes the connection (0: never).
    public var sendTimeoutMs: Int
    /// SO_SNDBUF/SO_RCVBUF (0: kernel default).
    public var socketBufferBytes: Int
    /// Stack size of the reader thread.
    public var threadStackBytes: Int
    /// Large response bodies (at least `reusedBodyMinimumBytes`) a consumer may hand back with `FrameClient.recycle`
    /// for the reader to read the next one into (0: none). See `ReceiveBufferPool`.
    public var reusedBodies: Int
    /// Smallest body worth reusing.
    public var reusedBodyMinimumBytes: Int

    /// Creates a configuration with defaults suited to clients and worker-to-worker replication.
    public init(
        connectTimeoutMs: Int = 5_000, requestTimeoutMs: Int = 60_000, maxInFlightRequests: Int = 512,
        maxFrameBodyBytes: Int = 65 * 1024 * 1024, sendTimeoutMs: Int = 60_000, socketBufferBytes: Int = 0,
        threadStackBytes: Int = 512 * 1024, reusedBodies: Int = 0, reusedBodyMinimumBytes: Int = 1 << 20
    ) {
        self.connectTimeoutMs = connectTimeoutMs
        self.requestTimeoutMs = requestTimeoutMs
        self.maxInFlightRequests = maxInFlightRequests
        self.maxFrameBodyBytes = maxFrameBodyBytes
        self.sendTimeoutMs = sendTimeoutMs
        self.socketBufferBytes = socketBufferBytes
        self.threadStackBytes = threadStackBytes
        self.reusedBodies = reusedBodies
        self.reusedBodyMinimumBytes = reusedBodyMinimumBytes
    }
}
