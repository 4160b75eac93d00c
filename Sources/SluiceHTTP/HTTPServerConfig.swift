/// Settings of an `HTTPServer`. It has no defaults of its own: the config registry holds them, and a server
/// module maps its keys into this struct. Units are in the names.
public struct HTTPServerConfig: Sendable {
    /// Address to listen on: an IPv4 or IPv6 literal or a name; "0.0.0.0" is IPv4 only, "::" IPv4 and IPv6.
    public var host: String
    /// Port to listen on; 0 lets the kernel pick (see `HTTPServer.start()`'s result).
    public var port: Int
    /// Open connections allowed at once; an extra one is accepted and closed at once.
    public var maxConnections: Int
    /// Bytes of an HTTP/1.1 request line and headers together, or of one HTTP/2 header list (431 beyond).
    public var maxHeaderBytes: Int
    /// Bytes of one request body (413 beyond).
    public var maxBodyBytes: Int
    /// HTTP/2 streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
    public var maxConcurrentStreams: Int
    /// A connection with no request in progress and nothing read or written for this long is closed.
    public var idleTimeoutMs: Int
    /// A request (or an HTTP/2 preface) begun and not complete within this long is dropped with its connection.
    /// A connection closing after an error waits at most this long for the client to stop sending.
    public var requestTimeoutMs: Int
    /// listen(2) backlog.
    public var listenBacklog: Int
    /// How long `stop()` waits for connections to close.
    public var stopTimeoutMs: Int

    /// Creates server settings; every value is given by the caller.
    public init(
        host: String, port: Int, maxConnections: Int, maxHeaderBytes: Int, maxBodyBytes: Int,
        maxConcurrentStreams: Int, idleTimeoutMs: Int, requestTimeoutMs: Int, listenBacklog: Int,
        stopTimeoutMs: Int
    ) {
        self.host = host
        self.port = port
        self.maxConnections = maxConnections
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxConcurrentStreams = maxConcurrentStreams
        self.idleTimeoutMs = idleTimeoutMs
        self.requestTimeoutMs = requestTimeoutMs
        self.listenBacklog = listenBacklog
        self.stopTimeoutMs = stopTimeoutMs
    }
}
