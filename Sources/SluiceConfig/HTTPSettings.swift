/// The operations HTTP server's settings (health, readiness, metrics, the JSON API), read from the registry: the
/// port from `master.httpPort` or `worker.httpPort`, the limits from keys both servers share.
public struct HTTPSettings: Sendable, Equatable {
    /// TCP port of the operations API (0 = any free port).
    public var port: Int
    /// Open connections at once.
    public var maxConnections: Int
    /// Bytes of a request's line and headers (431 beyond).
    public var maxHeaderBytes: Int
    /// Bytes of a request body (413 beyond).
    public var maxBodyBytes: Int
    /// HTTP/2 streams open at once per connection.
    public var maxConcurrentStreams: Int
    /// An idle connection is closed after this long.
    public var idleTimeoutMs: Int
    /// A request begun and not complete within this long is dropped with its connection.
    public var requestTimeoutMs: Int
    /// The bearer token admin (POST) requests must carry; empty: none.
    public var adminToken: String

    /// Reads the settings; `port` is the server's own key.
    init(_ config: ResolvedConfig, port: ConfigKey<Int>) throws(ConfigError) {
        typealias K = SharedKeys
        self.port = try config.value(port)
        maxConnections = try config.value(K.httpMaxConnections)
        maxHeaderBytes = try config.value(K.httpMaxHeaderSize)
        maxBodyBytes = try config.value(K.httpMaxBodySize)
        maxConcurrentStreams = try config.value(K.httpMaxConcurrentStreams)
        idleTimeoutMs = try config.value(K.httpIdleTimeout)
        requestTimeoutMs = try config.value(K.httpRequestTimeout)
        adminToken = try config.value(K.httpAdminToken)
    }
}
