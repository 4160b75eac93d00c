import CSluiceShim
import Dispatch
import Logging
import SluiceSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP server on a port of its own: HTTP/1.1 (keep-alive, Content-Length bodies), HTTP/2 with prior
/// knowledge and HTTP/2 by h2c upgrade (libnghttp2), all behind one `HTTPRouter`. Accepting and every connection
/// run on Dispatch read sources, so an idle connection costs no thread. Single-use: `start()`, then `stop()`;
/// a started server lives (its listening source holds it) until `stop()` is called.
public final class HTTPServer: Sendable {
    /// The settings given at creation.
    public let config: HTTPServerConfig
    private let context: HTTPServerContext
    private let acceptQueue = DispatchQueue(label: "sluice.http.accept", target: .global())

    private struct State {
        var started = false
        var stopping = false
        var boundPort: Int?
        var acceptSource: AcceptSource?
        var acceptRunning = false
        var acceptPaused = false
        var nextConnectionId: UInt64 = 1
        var connections: [UInt64: HTTPConnection] = [:]
    }
    private let state = Mutex(State())
    private let changed = ConditionVariable()

    /// Creates a stopped server answering through `router`; `system` is the system-call layer for connected
    /// sockets (a fault-injecting one in tests).
    public init(config: HTTPServerConfig, router: HTTPRouter, logger: Logger, system: any SystemCalls = PosixSystem()) {
        self.config = config
        context = HTTPServerContext(config: config, router: router, logger: logger, system: system)
    }

    /// Connections open (admitted and not yet closed).
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// The bound port once started.
    public var port: Int? { state.withLock { $0.boundPort } }

    /// Binds `config.host:config.port`, starts accepting and returns the bound port.
    /// - Throws: `SystemCallError` when binding fails, or EINVAL when the server was started before.
    @discardableResult
    public func start() throws(SystemCallError) -> Int {
        sluice_ignore_sigpipe()
        let again = state.withLock { s -> Bool in
            defer { s.started = true }
            return s.started
        }
        guard !again else { throw SystemCallError(errno: EINVAL, call: "start", cause: "an HTTP server is single-use") }
        let (fd, port) = try HTTPSockets.listen(host: config.host, port: config.port, backlog: config.listenBacklog)
        let source = AcceptSource(DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue))
        source.source.setEventHandler { [weak self] in self?.acceptPending(fd) }
        source.source.setCancelHandler { [self] in
            _ = Glibc.close(fd)
            state.withLock { $0.acceptRunning = false }
            changed.broadcast()
        }
        let stopped = state.withLock { s -> Bool in
            guard !s.stopping else { return true }
            s.boundPort = port
            s.acceptSource = source
            s.acceptRunning = true
            return false
        }
        guard !stopped else {
            _ = Glibc.close(fd)
            throw SystemCallError(errno: ECANCELED, call: "start", cause: "server stopped while starting")
        }
        source.source.resume()
        context.logger.info("http server listening", metadata: ["host": "\(config.host)", "port": "\(port)"])
        return port
    }

    /// Stops accepting, closes every connection and waits up to `config.stopTimeoutMs` for them to be gone.
    /// Returns whether they were. Idempotent. Not to be called from a request handler.
    @discardableResult
    public func stop() -> Bool {
        let connections = state.withLock { s -> [HTTPConnection] in
            guard !s.stopping else { return [] }
            s.stopping = true
            if let source = s.acceptSource {
                if s.acceptPaused { source.source.resume() }  // a suspended source would never run its cancel handler
                source.source.cancel()
            }
            s.acceptPaused = false
            s.acceptSource = nil
            return Array(s.connections.values)
        }
        for connection in connections { connection.shutDown() }
        return changed.wait(
            until: {
                state.withLock { !$0.acceptRunning && $0.connections.isEmpty }
            }, timeoutMs: config.stopTimeoutMs)
    }

    /// Accepts until EAGAIN (bounded per event), admitting up to `maxConnections` and closing the rest.
    private func acceptPending(_ listenFd: Int32) {
        for _ in 0..<256 {
            switch HTTPSockets.accept(listenFd) {
            case .none:
                return
            case .exhausted(let code):
                context.logger.warning(
                    "accept failed", metadata: ["error": "\(SystemCallError(errno: code, call: "accept"))"])
                // Level-triggered: pause the source briefly rather than spin while descriptors are short.
                state.withLock { s in
                    guard let source = s.acceptSource, !s.acceptPaused else { return }
                    s.acceptPaused = true
                    source.source.suspend()
                }
                acceptQueue.asyncAfter(deadline: .now() + .milliseconds(50)) { [weak self] in self?.resumeAccepting() }
                return
            case .connection(let fd):
                admit(fd)
            }
        }
    }

    private func resumeAccepting() {
        state.withLock { s in
            guard let source = s.acceptSource, s.acceptPaused else { return }
            s.acceptPaused = false
            source.source.resume()
        }
    }

    private func admit(_ fd: Int32) {
        let peer = HTTPSockets.peerDescription(fd)
        let connection = state.withLock { s -> HTTPConnection? in
            guard !s.stopping, s.connections.count < config.maxConnections else { return nil }
            let id = s.nextConnectionId
            s.nextConnectionId += 1
            let connection = HTTPConnection(id: id, fd: fd, peerAddress: peer, context: context) { [weak self] id in
                self?.finished(id)
            }
            s.connections[id] = connection
            return connection
        }
        guard let connection else {
            context.logger.warning(
                "http connection refused: server full or stopping",
                metadata: ["peer.address": "\(peer)", "max.connections": "\(config.maxConnections)"])
            _ = Glibc.close(fd)
            return
        }
        connection.start()
    }

    private func finished(_ id: UInt64) {
        state.withLock { _ = $0.connections.removeValue(forKey: id) }
        changed.broadcast()
    }
}

/// The listening socket's read source. Suspended, resumed and cancelled only under the server's state lock.
private final class AcceptSource: @unchecked Sendable {
    let source: DispatchSourceRead
    init(_ source: DispatchSourceRead) { self.source = source }
}
