import CSluiceShim
import Logging
import SluiceCore
import SluiceSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Settings of a `Listener`. Units are in the names; 0 disables a time-out.
public struct ListenerConfig: Sendable {
    /// Address to listen on: an IPv4 or IPv6 literal or a name; "0.0.0.0" is IPv4 only, "::" IPv4 and IPv6.
    public var host: String
    /// Port to listen on; 0 lets the kernel pick (see `Listener.start()`'s result).
    public var port: Int
    /// Open connections allowed at once; an extra one is accepted and closed at once.
    public var maxConnections: Int
    /// Open connections one remote IP address may hold at once; an extra one is accepted and closed at once.
    public var maxConnectionsPerPeer: Int
    /// A write blocked this long (peer not reading) fails (0: never).
    public var sendTimeoutMs: Int
    /// SO_SNDBUF/SO_RCVBUF for each connection (0: kernel default).
    public var socketBufferBytes: Int
    /// How long `stop()` waits for connections to finish after shutting them down.
    public var stopTimeoutMs: Int
    /// listen(2) backlog.
    public var listenBacklog: Int
    /// Stack size of the accept thread.
    public var threadStackBytes: Int

    /// Creates listener settings.
    public init(
        host: String, port: Int, maxConnections: Int, maxConnectionsPerPeer: Int, sendTimeoutMs: Int,
        socketBufferBytes: Int, stopTimeoutMs: Int, listenBacklog: Int, threadStackBytes: Int
    ) {
        self.host = host
        self.port = port
        self.maxConnections = maxConnections
        self.maxConnectionsPerPeer = maxConnectionsPerPeer
        self.sendTimeoutMs = sendTimeoutMs
        self.socketBufferBytes = socketBufferBytes
        self.stopTimeoutMs = stopTimeoutMs
        self.listenBacklog = listenBacklog
        self.threadStackBytes = threadStackBytes
    }
}

/// What a protocol does with the connections a `Listener` admits (the frame protocol, HTTP).
public protocol ConnectionAcceptor: Sendable {
    /// Takes over `connection`, whose descriptor it now owns. Called on the accept thread: start a thread or
    /// event sources and return at once. Must register how to wake the connection (`whenShutDown`) before
    /// returning, and call `connection.finished()` exactly once when it has closed the descriptor.
    func accepted(_ connection: AcceptedConnection)
}

/// A connection the listener admitted: its descriptor, peer and the hooks the listener needs at stop.
public final class AcceptedConnection: Sendable {
    /// Unique within the listener's lifetime.
    public let id: UInt64
    /// The connected descriptor, owned by the acceptor.
    public let fd: Int32
    /// "ip:port" of the peer.
    public let peerAddress: String
    private let shutdownHook = Mutex<(@Sendable () -> Void)?>(nil)
    private let onFinished: @Sendable (UInt64) -> Void

    init(id: UInt64, fd: Int32, peerAddress: String, onFinished: @escaping @Sendable (UInt64) -> Void) {
        self.id = id
        self.fd = fd
        self.peerAddress = peerAddress
        self.onFinished = onFinished
    }

    /// Registers how the listener wakes this connection when it stops (e.g. shut the socket down).
    public func whenShutDown(_ body: @escaping @Sendable () -> Void) { shutdownHook.withLock { $0 = body } }

    /// Tells the listener the connection is closed; call exactly once.
    public func finished() { onFinished(id) }

    func shutDown() { shutdownHook.withLock { $0 }?() }
}

/// A TCP listener apart from any protocol: binds, accepts on one thread, admits up to `maxConnections`, and up to
/// `maxConnectionsPerPeer` from one remote IP address (refusing the rest by closing them), configures each socket, and hands it to its `ConnectionAcceptor`.
/// `stop()` stops accepting, wakes every connection and waits for them to finish.
public final class Listener: Sendable {
    /// The settings given at creation.
    public let config: ListenerConfig
    private let acceptor: any ConnectionAcceptor
    private let logger: Logger

    private struct State {
        var listenFd: Int32 = -1
        var started = false
        var boundPort: Int?
        var stopping = false
        var acceptRunning = false
        var nextConnectionId: UInt64 = 1
        var connections: [UInt64: AcceptedConnection] = [:]
        /// Open connections per remote IP address.
        var connectionsPerHost: [String: Int] = [:]
    }
    private let state = Mutex(State())
    /// Broadcast when the accept thread ends or a connection finishes.
    private let changed = ConditionVariable()

    /// Creates a stopped listener; `start()` binds and begins accepting.
    public init(config: ListenerConfig, acceptor: any ConnectionAcceptor, logger: Logger) {
        self.config = config
        self.acceptor = acceptor
        self.logger = logger
    }

    /// Connections admitted and not finished.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// The bound port once started.
    public var port: Int? { state.withLock { $0.boundPort } }

    /// Binds `config.host:config.port`, starts the accept thread and returns the bound port.
    /// Throws `NetError` when binding fails or the listener was already started (it is single-use).
    @discardableResult
    public func start() throws -> Int {
        sluice_ignore_sigpipe()
        let alreadyStarted = state.withLock { s -> Bool in
            defer { s.started = true }
            return s.started
        }
        guard !alreadyStarted else {
            throw NetError(code: EINVAL, call: "start", message: "server already started (a server is single-use)")
        }
        let fd: Int32
        let port: Int
        do {
            (fd, port) = try Sockets.listen(host: config.host, port: config.port, backlog: config.listenBacklog)
        } catch {
            state.withLock { $0.started = false }
            throw error
        }
        let stoppedMeanwhile = state.withLock { s -> Bool in
            guard !s.stopping else { return true }
            s.listenFd = fd
            s.boundPort = port
            s.acceptRunning = true
            return false
        }
        guard !stoppedMeanwhile else {
            _ = close(fd)
            throw NetError(code: ECANCELED, call: "start", message: "server stopped while starting")
        }
        do {
            try SystemThread.spawn(stackBytes: config.threadStackBytes) { self.acceptLoop(fd) }
        } catch {
            state.withLock { s in
                s.listenFd = -1
                s.acceptRunning = false
            }
            _ = close(fd)
            throw NetError(error)
        }
        logger.info("server listening", metadata: ["host": "\(config.host)", "port": "\(port)"])
        return port
    }

    /// Stops accepting, wakes every connection and waits (up to `config.stopTimeoutMs`) for them to finish.
    /// Returns whether every connection finished in time. Idempotent.
    @discardableResult
    public func stop() -> Bool {
        let fd = state.withLock { s -> Int32 in
            guard !s.stopping else { return -1 }
            s.stopping = true
            return s.listenFd
        }
        guard fd >= 0 else { return connectionCount == 0 }
        _ = shutdown(fd, Int32(SHUT_RDWR))  // wakes the blocked accept
        let deadlineMs = Int(Monotonic.nowMs()) + max(config.stopTimeoutMs, 0)
        changed.wait(until: { !self.state.withLock { $0.acceptRunning } }, timeoutMs: config.stopTimeoutMs)
        if !state.withLock({ $0.acceptRunning }) { _ = close(fd) }
        for connection in state.withLock({ Array($0.connections.values) }) { connection.shutDown() }
        let leftMs = max(deadlineMs - Int(Monotonic.nowMs()), 0)
        return changed.wait(until: { self.connectionCount == 0 }, timeoutMs: leftMs)
    }

    private func acceptLoop(_ listenFd: Int32) {
        defer {
            state.withLock { $0.acceptRunning = false }
            changed.broadcast()
        }
        while true {
            let fd: Int32
            do {
                guard let accepted = try Sockets.accept(listenFd) else { return }
                fd = accepted
            } catch {
                if state.withLock({ $0.stopping }) { return }
                logger.warning("accept failed", metadata: ["error": "\(error)"])
                usleep(50_000)  // e.g. EMFILE: back off instead of spinning
                continue
            }
            admit(fd)
        }
    }

    /// Why an accepted connection is refused.
    private enum Refusal: Error {
        case fullOrStopping
        case peerFull
    }

    /// Takes ownership of an accepted descriptor: refuses it when stopping, full or its peer holds too many
    /// connections, else hands it over.
    private func admit(_ fd: Int32) {
        let peer = Sockets.peerDescription(fd)
        let host = Self.host(of: peer)
        let admitted = state.withLock { s -> Result<UInt64, Refusal> in
            guard !s.stopping, s.connections.count < config.maxConnections else { return .failure(.fullOrStopping) }
            let fromHost = s.connectionsPerHost[host, default: 0]
            guard fromHost < config.maxConnectionsPerPeer else { return .failure(.peerFull) }
            s.connectionsPerHost[host] = fromHost + 1
            let id = s.nextConnectionId
            s.nextConnectionId += 1
            return .success(id)
        }
        let id: UInt64
        switch admitted {
        case .success(let admittedId):
            id = admittedId
        case .failure(.fullOrStopping):
            logger.warning(
                "connection refused: server full or stopping",
                metadata: ["peer.address": "\(peer)", "max.connections": "\(config.maxConnections)"])
            _ = close(fd)
            return
        case .failure(.peerFull):
            logger.warning(
                "connection refused: too many connections from the peer's address",
                metadata: ["peer.address": "\(peer)", "max.connectionsPerPeer": "\(config.maxConnectionsPerPeer)"])
            _ = close(fd)
            return
        }
        do {
            try Sockets.configure(fd, sendTimeoutMs: config.sendTimeoutMs, socketBufferBytes: config.socketBufferBytes)
        } catch {
            logger.warning("socket setup failed", metadata: ["peer.address": "\(peer)", "error": "\(error)"])
            _ = close(fd)
            release(host: host)
            return
        }
        let connection = AcceptedConnection(id: id, fd: fd, peerAddress: peer) { [self] id in
            state.withLock { s in
                guard s.connections.removeValue(forKey: id) != nil else { return }
                Self.release(host: host, in: &s)
            }
            changed.broadcast()
        }
        state.withLock { $0.connections[id] = connection }
        acceptor.accepted(connection)
    }

    private func release(host: String) {
        state.withLock { Self.release(host: host, in: &$0) }
    }

    private static func release(host: String, in s: inout State) {
        let left = s.connectionsPerHost[host, default: 1] - 1
        s.connectionsPerHost[host] = left > 0 ? left : nil
    }

    /// The IP address part of an "ip:port" or "[v6]:port" peer description (the whole text when it has no port).
    static func host(of peer: String) -> String {
        EndpointText.parse(peer)?.host ?? peer
    }
}
