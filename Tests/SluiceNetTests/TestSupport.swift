#if canImport(Glibc)
import Glibc
#endif
import Logging
import SluiceCore
import SluiceSystem
@testable import SluiceNet
import Synchronization

/// Logs nothing: tests check behaviour, not log lines.
let quietLogger = Logger(label: "sluice.net.test", factory: { _ in SwiftLogNoOpLogHandler() })

/// Waits until `condition` holds, checking every 2 ms, for at most `timeoutMs`. Returns the final value.
func eventually(timeoutMs: Int = 5_000, _ condition: () -> Bool) -> Bool {
    let deadline = Monotonic.nowMs() + UInt64(timeoutMs)
    while !condition() {
        if Monotonic.nowMs() >= deadline { return false }
        usleep(2_000)
    }
    return true
}

/// Starts a server on 127.0.0.1 with a random port.
func startServer(_ handler: any FrameHandler, system: any SystemCalls = PosixSystem(),
                 authenticator: any PeerAuthenticator = DeclaredRoleAuthenticator(),
                 configure: (inout FrameServerConfig) -> Void = { _ in }) throws -> (FrameServer, Int) {
    var config = FrameServerConfig(host: "127.0.0.1", port: 0, serverId: "test-server", maxConnections: 1024,
                                   maxFrameBodyBytes: 64 << 20, idleTimeoutMs: 600_000,
                                   maxInFlightRequestsPerConnection: 64, stopTimeoutMs: 3_000)
    configure(&config)
    let server = FrameServer(config: config, handler: handler, logger: quietLogger, system: system,
                             authenticator: authenticator)
    let port = try server.start()
    return (server, port)
}

func connectClient(_ port: Int, config: FrameClientConfig = FrameClientConfig(requestTimeoutMs: 10_000))
    throws -> FrameClient {
    try FrameClient.connect(host: "127.0.0.1", port: port, role: .client, identity: "test-client", config: config,
                            logger: quietLogger)
}

/// Decodes the leading status of a response body.
func status(of frame: Frame) throws -> StatusCode { try ErrorResponse.decode(frame.body[...]).status }

/// Replies to every request with its own body.
struct EchoHandler: FrameHandler {
    func handle(request: Frame, on connection: ServerConnection) throws {
        guard request.type == MessageType.pushBatch.rawValue else {
            connection.respondError(to: request, status: .unknownMessage, message: "unknown type \(request.type)")
            return
        }
        connection.respond(to: request, body: request.body)
    }
}

/// Holds every request until `releaseAll`, then echoes them; counts invocations and closed connections.
final class HoldingHandler: FrameHandler {
    private let held = Mutex<[(Frame, ServerConnection)]>([])
    let invocations = Atomic<Int>(0)
    let closedConnections = Atomic<Int>(0)

    var heldCount: Int { held.withLock { $0.count } }

    func handle(request: Frame, on connection: ServerConnection) throws {
        held.withLock { $0.append((request, connection)) }
        invocations.add(1, ordering: .sequentiallyConsistent)
    }

    func connectionClosed(_ connection: ServerConnection) {
        closedConnections.add(1, ordering: .sequentiallyConsistent)
    }

    /// Answers up to `count` held requests (all by default), oldest first.
    func release(_ count: Int = Int.max) {
        let taken = held.withLock { h -> [(Frame, ServerConnection)] in
            let n = min(count, h.count)
            defer { h.removeFirst(n) }
            return Array(h.prefix(n))
        }
        for (request, connection) in taken { connection.respond(to: request, body: request.body) }
    }
}

/// A hand-driven connection for sending malformed input.
final class RawPeer {
    let socket: FrameSocket

    init(port: Int) throws {
        let fd = try Sockets.connect(host: "127.0.0.1", port: port, timeoutMs: 2_000)
        _ = setTestReceiveTimeout(fd)
        socket = FrameSocket(fd: fd, peerAddress: "server", system: PosixSystem())
    }

    deinit { socket.close() }

    func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try socket.system.writeAll(socket.fd, [$0]) }
    }

    func sendHello(version: UInt16 = ProtocolVersion.current) throws {
        let body = HelloRequest(version: version, role: .tool, identity: "raw").encode()
        try socket.write(Frame(type: .hello, requestId: 7, body: body))
    }

    func shutdownWrite() { _ = shutdown(socket.fd, Int32(SHUT_WR)) }

    /// Next frame, nil on end of stream; throws after 5 s without data.
    func readFrame() throws -> Frame? {
        let giveUp: () throws -> Void = { throw NetError.timedOut("test", "no data within 5 s") }
        guard let header = try socket.readHeader(maxBodyBytes: 1 << 20, onTimeout: giveUp) else { return nil }
        let body = try socket.readBody(count: Int(header.bodyLength), onTimeout: giveUp)
        return Frame(type: header.type, flags: header.flags, requestId: header.requestId, body: body)
    }

    /// True when the server closed the connection (end of stream or reset) within 5 s.
    func seesEndOfStream() -> Bool {
        do {
            while try readFrame() != nil {}
            return true
        } catch let error as NetError {
            return !error.isTimeout
        } catch {
            return false
        }
    }
}

func setTestReceiveTimeout(_ fd: Int32) -> Int32 {
    var tv = timeval(tv_sec: 5, tv_usec: 0)
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
}

/// Runs `count` threads executing `body(index)` and waits for all of them.
func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) throws {
    let finished = Counter()
    for index in 0..<count {
        try SystemThread.spawn {
            body(index)
            finished.increment()
        }
    }
    _ = eventually(timeoutMs: 30_000) { finished.value == count }
}

/// A thread-safe counter that closures can share.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .sequentiallyConsistent) }
    func increment() { count.add(1, ordering: .sequentiallyConsistent) }
}
