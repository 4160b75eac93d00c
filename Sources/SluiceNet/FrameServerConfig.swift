import SluiceCore
import SluiceSystem

/// Settings of a `FrameServer`. Units are in the names; 0 disables a time-out.
public struct FrameServerConfig: Sendable {
    /// Address to listen on: an IPv4 or IPv6 literal or a name; "0.0.0.0" is IPv4 only, "::" IPv4 and IPv6.
    public var host: String
    /// Port to listen on; 0 lets the kernel pick (see `FrameServer.start()`'s result).
    public var port: Int
    /// Sent to clients in the handshake reply (e.g. the worker id).
    public var serverId: String
    /// Open connections allowed at once; an extra one is accepted and closed at once.
    public var maxConnections: Int
    /// Open connections one remote IP address may hold at once; an extra one is closed at once.
    public var maxConnectionsPerPeer: Int
    /// Largest frame body accepted; a longer frame gets a `frameTooLarge` reply and the connection closes.
    public var maxFrameBodyBytes: Int
    /// A connection that completes no frame for this long is closed (0: never).
    public var idleTimeoutMs: Int
    /// The reader stops reading a connection while this many of its requests await a response.
    public var maxInFlightRequestsPerConnection: Int
    /// Shared account of buffered bytes: readers wait while it is paused, and every request body is held
    /// in it until the request is answered.
    public var memoryBudget: MemoryBudget?
    /// Peers whose connections are never paused by the budget (their bytes are still accounted). A worker
    /// exempts `.worker`: replication traffic between two workers that each replicate to the other would
    /// otherwise deadlock when both budgets are paused waiting for the other's replica acknowledgements.
    public var budgetExemptRoles: Set<PeerRole> = []
    /// A response write blocked this long (peer not reading) fails and closes the connection (0: never).
    public var sendTimeoutMs: Int
    /// SO_SNDBUF/SO_RCVBUF for each connection (0: kernel default).
    public var socketBufferBytes: Int
    /// Stack size of each connection thread.
    public var threadStackBytes: Int
    /// How long `stop()` waits for connection threads to finish.
    public var stopTimeoutMs: Int
    /// listen(2) backlog.
    public var listenBacklog: Int
    /// Request bodies handed back when their request is answered, for the readers to read the next large body into
    /// (nil: every body is a new allocation, which the kernel must fault in and zero). Shared by every connection.
    public var receiveBuffers: ReceiveBufferPool?
    /// Protocol versions the handshake accepts; the reply names the peer's version.
    public var supportedVersions: ClosedRange<UInt16> = ProtocolVersion.supported

    /// Creates a configuration. The limits that are configuration keys (connections, frame size, idle time-out,
    /// requests in flight) have no default here: the servers take them from the config registry, tests name them.
    public init(
        host: String, port: Int, serverId: String, maxConnections: Int, maxConnectionsPerPeer: Int,
        maxFrameBodyBytes: Int,
        idleTimeoutMs: Int, maxInFlightRequestsPerConnection: Int, memoryBudget: MemoryBudget? = nil,
        sendTimeoutMs: Int = 60_000, socketBufferBytes: Int = 0, threadStackBytes: Int = 512 * 1024,
        stopTimeoutMs: Int = 5_000, listenBacklog: Int = 512
    ) {
        self.host = host
        self.port = port
        self.serverId = serverId
        self.maxConnections = maxConnections
        self.maxConnectionsPerPeer = maxConnectionsPerPeer
        self.maxFrameBodyBytes = maxFrameBodyBytes
        self.idleTimeoutMs = idleTimeoutMs
        self.maxInFlightRequestsPerConnection = maxInFlightRequestsPerConnection
        self.memoryBudget = memoryBudget
        self.sendTimeoutMs = sendTimeoutMs
        self.socketBufferBytes = socketBufferBytes
        self.threadStackBytes = threadStackBytes
        self.stopTimeoutMs = stopTimeoutMs
        self.listenBacklog = listenBacklog
    }
}

extension FrameServerConfig {
    /// The listener's part of these settings.
    var listener: ListenerConfig {
        ListenerConfig(
            host: host, port: port, maxConnections: maxConnections, maxConnectionsPerPeer: maxConnectionsPerPeer,
            sendTimeoutMs: sendTimeoutMs,
            socketBufferBytes: socketBufferBytes, stopTimeoutMs: stopTimeoutMs,
            listenBacklog: listenBacklog, threadStackBytes: threadStackBytes)
    }
}
