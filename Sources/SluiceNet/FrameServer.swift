import Logging
import SluiceCore
import SluiceSystem

/// A TCP server speaking Sluice frames: a `Listener` admits connections, and each gets a thread that performs
/// the handshake (version check, then the `PeerAuthenticator`), reads frames and hands requests to the
/// `FrameHandler`. Errors on one connection close only it.
public final class FrameServer: Sendable {
    /// The configuration given at creation.
    public let config: FrameServerConfig
    private let listener: Listener
    private let logger: Logger

    /// Creates a stopped server; `start()` binds and begins accepting. Its connections' reads, writes and
    /// sendfiles go through `system` (tests inject faults there); `authenticator` decides what each peer proved
    /// in its handshake.
    public init(
        config: FrameServerConfig, handler: any FrameHandler, logger: Logger,
        system: any SystemCalls = PosixSystem(),
        authenticator: any PeerAuthenticator = DeclaredRoleAuthenticator()
    ) {
        self.config = config
        var logger = logger
        logger[metadataKey: "server.id"] = "\(config.serverId)"
        self.logger = logger
        let acceptor = FrameAcceptor(
            config: config, handler: handler, logger: logger, system: system,
            authenticator: authenticator)
        listener = Listener(config: config.listener, acceptor: acceptor, logger: logger)
    }

    /// Connections open now (including ones still in their handshake).
    public var connectionCount: Int { listener.connectionCount }

    /// The bound port once started.
    public var port: Int? { listener.port }

    /// Binds `config.host:config.port`, starts accepting and returns the bound port.
    /// Throws `NetError` when binding fails or the server was already started.
    @discardableResult
    public func start() throws -> Int { try listener.start() }

    /// Stops accepting, closes every connection and waits (up to `config.stopTimeoutMs`) for their threads.
    /// Requests still held by handlers may be answered later; the replies are dropped. Idempotent.
    public func stop() {
        if listener.stop() {
            logger.info("server stopped")
        } else {
            logger.warning(
                "server stopped with connection threads still running",
                metadata: ["connections": "\(connectionCount)"])
        }
    }
}

/// The frame protocol on admitted connections: one thread per connection running a `ConnectionLoop`.
struct FrameAcceptor: ConnectionAcceptor {
    let config: FrameServerConfig
    let handler: any FrameHandler
    let logger: Logger
    let system: any SystemCalls
    let authenticator: any PeerAuthenticator

    func accepted(_ connection: AcceptedConnection) {
        let socket = FrameSocket(fd: connection.fd, peerAddress: connection.peerAddress, system: system)
        connection.whenShutDown { socket.shutdown() }
        var connectionLogger = logger
        connectionLogger[metadataKey: "peer.address"] = "\(connection.peerAddress)"
        connectionLogger[metadataKey: "connection.id"] = "\(connection.id)"
        let loop = ConnectionLoop(
            id: connection.id, socket: socket, config: config, handler: handler,
            authenticator: authenticator, logger: connectionLogger)
        do {
            try SystemThread.spawn(stackBytes: config.threadStackBytes) {
                loop.run()
                connection.finished()
            }
        } catch {
            logger.warning(
                "connection thread failed to start",
                metadata: ["peer.address": "\(connection.peerAddress)", "error": "\(error)"])
            socket.close()
            connection.finished()
        }
    }
}
