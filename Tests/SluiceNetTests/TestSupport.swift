import Logging
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Synchronization

@testable import SluiceNet

/// Starts a server on 127.0.0.1 with a random port.
func startServer(
    _ handler: any FrameHandler, system: any SystemCalls = PosixSystem(),
    authenticator: any PeerAuthenticator = DeclaredRoleAuthenticator(),
    configure: (inout FrameServerConfig) -> Void = { _ in }
) throws -> (FrameServer, Int) {
    var config = FrameServerConfig(
        host: "127.0.0.1", port: 0, serverId: "test-server", maxConnections: 1024, maxConnectionsPerPeer: 1024,
        maxFrameBodyBytes: 64 << 20, idleTimeoutMs: 600_000,
        maxInFlightRequestsPerConnection: 64, stopTimeoutMs: 3_000)
    configure(&config)
    let server = FrameServer(
        config: config, handler: handler, logger: quietLogger, system: system,
        authenticator: authenticator)
    let port = try server.start()
    return (server, port)
}

func connectClient(_ port: Int, config: FrameClientConfig = FrameClientConfig(requestTimeoutMs: 10_000))
    throws -> FrameClient
{
    try FrameClient.connect(
        host: "127.0.0.1", port: port, role: .client, identity: "test-client", config: config,
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

/// Runs `count` threads executing `body(index)` and waits for all of them.
func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) throws {
    let finished = Counter()
    for index in 0..<count {
        try SystemThread.spawn {
            body(index)
            finished.increment()
        }
    }
    _ = waitUntil(timeoutMs: 30_000) { finished.value == count }
}

/// A thread-safe counter that closures can share.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .sequentiallyConsistent) }
    func increment() { count.add(1, ordering: .sequentiallyConsistent) }
}
