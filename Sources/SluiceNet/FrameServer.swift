#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSluiceShim
import Logging
import SluiceCore
import SluiceSystem
import Synchronization

/// A TCP server speaking Sluice frames: one accept thread, and one thread per connection that performs the
/// handshake, reads frames and hands requests to the `FrameHandler`. Errors on one connection close only it.
public final class FrameServer: Sendable {
    /// The configuration given at creation.
    public let config: FrameServerConfig
    private let handler: any FrameHandler
    private let logger: Logger
    /// The system calls the connections' sockets go through.
    private let system: any SystemCalls

    private struct State {
        var listenFd: Int32 = -1
        var started = false
        var boundPort: Int?
        var stopping = false
        var acceptRunning = false
        var nextConnectionId: UInt64 = 1
        var sockets: [UInt64: FrameSocket] = [:]
    }
    private let state = Mutex(State())
    /// Broadcast when the accept thread ends or a connection thread finishes.
    private let changed = ConditionVariable()

    /// Creates a stopped server; `start()` binds and begins accepting. Its connections' reads, writes and
    /// sendfiles go through `system` (tests inject faults there).
    public init(config: FrameServerConfig, handler: any FrameHandler, logger: Logger,
                system: any SystemCalls = PosixSystem()) {
        self.config = config
        self.handler = handler
        self.system = system
        var logger = logger
        logger[metadataKey: "server.id"] = "\(config.serverId)"
        self.logger = logger
    }

    /// Connections open now (including ones still in their handshake).
    public var connectionCount: Int { state.withLock { $0.sockets.count } }

    /// The bound port once started.
    public var port: Int? { state.withLock { $0.boundPort } }

    /// Binds `config.host:config.port`, starts the accept thread and returns the bound port.
    /// Throws `NetError` when binding fails or the server was already started.
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
            throw error
        }
        logger.info("server listening", metadata: ["host": "\(config.host)", "port": "\(port)"])
        return port
    }

    /// Stops accepting, closes every connection and waits (up to `config.stopTimeoutMs`) for their threads.
    /// Requests still held by handlers may be answered later; the replies are dropped. Idempotent.
    public func stop() {
        let fd = state.withLock { s -> Int32 in
            guard !s.stopping else { return -1 }
            s.stopping = true
            return s.listenFd
        }
        guard fd >= 0 else { return }
        _ = shutdown(fd, Int32(SHUT_RDWR))  // wakes the blocked accept
        let deadlineMs = Int(Monotonic.nowMs()) + max(config.stopTimeoutMs, 0)
        changed.wait(until: { !self.state.withLock { $0.acceptRunning } }, timeoutMs: config.stopTimeoutMs)
        if !state.withLock({ $0.acceptRunning }) { _ = close(fd) }
        for socket in state.withLock({ Array($0.sockets.values) }) { socket.shutdown() }
        let leftMs = max(deadlineMs - Int(Monotonic.nowMs()), 0)
        let drained = changed.wait(until: { self.connectionCount == 0 }, timeoutMs: leftMs)
        if drained {
            logger.info("server stopped")
        } else {
            logger.warning("server stopped with connection threads still running",
                           metadata: ["connections": "\(connectionCount)"])
        }
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

    /// Takes ownership of an accepted descriptor: refuses it when stopping or full, else starts its thread.
    private func admit(_ fd: Int32) {
        let peer = Sockets.peerDescription(fd)
        let admitted = state.withLock { s -> UInt64? in
            guard !s.stopping, s.sockets.count < config.maxConnections else { return nil }
            let id = s.nextConnectionId
            s.nextConnectionId += 1
            return id
        }
        guard let id = admitted else {
            logger.warning("connection refused: server full or stopping",
                           metadata: ["peer.address": "\(peer)", "max.connections": "\(config.maxConnections)"])
            _ = close(fd)
            return
        }
        do {
            try Sockets.configure(fd, sendTimeoutMs: config.sendTimeoutMs, socketBufferBytes: config.socketBufferBytes)
        } catch {
            logger.warning("socket setup failed", metadata: ["peer.address": "\(peer)", "error": "\(error)"])
            _ = close(fd)
            return
        }
        let socket = FrameSocket(fd: fd, peerAddress: peer, system: system)
        state.withLock { $0.sockets[id] = socket }
        var connectionLogger = logger
        connectionLogger[metadataKey: "peer.address"] = "\(peer)"
        connectionLogger[metadataKey: "connection.id"] = "\(id)"
        let loop = ConnectionLoop(id: id, socket: socket, config: config, handler: handler, logger: connectionLogger)
        do {
            try SystemThread.spawn(stackBytes: config.threadStackBytes) {
                loop.run()
                self.connectionFinished(id)
            }
        } catch {
            logger.warning("connection thread failed to start", metadata: ["peer.address": "\(peer)", "error": "\(error)"])
            socket.close()
            connectionFinished(id)
        }
    }

    private func connectionFinished(_ id: UInt64) {
        state.withLock { _ = $0.sockets.removeValue(forKey: id) }
        changed.broadcast()
    }
}
