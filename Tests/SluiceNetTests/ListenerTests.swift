import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceNet

#if canImport(Glibc)
    import Glibc
#endif

/// The listener apart from the frame protocol, and the handshake's authentication hook and version range.
@Suite struct ListenerTests {
    /// A protocol that is not frames: answers each connection with one line, then closes it.
    struct GreetingAcceptor: ConnectionAcceptor {
        func accepted(_ connection: AcceptedConnection) {
            connection.whenShutDown { _ = shutdown(connection.fd, Int32(SHUT_RDWR)) }
            let line = Array("hello \(connection.id)\n".utf8)
            _ = line.withUnsafeBytes { write(connection.fd, $0.baseAddress, $0.count) }
            close(connection.fd)
            connection.finished()
        }
    }

    /// Holds every connection open until the listener stops it.
    struct HoldingAcceptor: ConnectionAcceptor {
        let counter = Counter()
        func accepted(_ connection: AcceptedConnection) {
            connection.whenShutDown { _ = shutdown(connection.fd, Int32(SHUT_RDWR)) }
            counter.increment()
            do {
                try SystemThread.spawn {
                    var byte: UInt8 = 0
                    while read(connection.fd, &byte, 1) > 0 {}
                    close(connection.fd)
                    connection.finished()
                }
            } catch {
                close(connection.fd)
                connection.finished()
            }
        }
    }

    static func config(maxConnections: Int = 8) -> ListenerConfig {
        ListenerConfig(
            host: "127.0.0.1", port: 0, maxConnections: maxConnections, maxConnectionsPerPeer: maxConnections,
            sendTimeoutMs: 5_000,
            socketBufferBytes: 0, stopTimeoutMs: 3_000, listenBacklog: 16, threadStackBytes: 256 * 1024)
    }

    /// Bounds a blocking read, so a broken listener fails the test instead of hanging it.
    static func giveUpReadingAfter5s(_ fd: Int32) {
        var limit = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    static func readLine(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 { bytes.append(byte) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func servesAProtocolThatIsNotFrames() throws {
        let listener = Listener(config: Self.config(), acceptor: GreetingAcceptor(), logger: quietLogger)
        let port = try listener.start()
        defer { listener.stop() }
        for expected in 1...3 {
            let fd = try Sockets.connect(host: "127.0.0.1", port: port, timeoutMs: 2_000)
            Self.giveUpReadingAfter5s(fd)
            #expect(Self.readLine(fd) == "hello \(expected)\n")
            close(fd)
        }
        #expect(waitUntil(timeoutMs: 5_000) { listener.connectionCount == 0 })
    }

    @Test func admitsUpToTheLimitAndStopWakesEveryConnection() throws {
        let acceptor = HoldingAcceptor()
        let listener = Listener(config: Self.config(maxConnections: 2), acceptor: acceptor, logger: quietLogger)
        let port = try listener.start()
        let fds = try (0..<3).map { _ in try Sockets.connect(host: "127.0.0.1", port: port, timeoutMs: 2_000) }
        defer { for fd in fds { close(fd) } }
        #expect(waitUntil(timeoutMs: 5_000) { acceptor.counter.value == 2 })
        // The third was refused: closed by the listener without reaching the acceptor.
        Self.giveUpReadingAfter5s(fds[2])
        #expect(Self.readLine(fds[2]).isEmpty)
        #expect(listener.connectionCount == 2)
        #expect(listener.stop(), "stop shuts the held connections down and waits for them")
        #expect(listener.connectionCount == 0)
    }

    /// Proves only clients; refuses peers that claim to be workers.
    struct ClientsOnly: PeerAuthenticator {
        func start(_ hello: HelloRequest, peerAddress: String) -> HandshakeStart {
            hello.role == .worker
                ? .decided(.refused(.invalidArgument, "workers must prove it"))
                : .decided(.accepted(AuthenticatedPeer(role: .client, identity: "proven-\(hello.identity)")))
        }

        func finish(
            _ hello: HelloRequest, serverNonce: [UInt8], serverId: String, answer: AuthenticateRequest,
            peerAddress: String
        ) -> (PeerAuthentication, serverProof: [UInt8]) {
            (.refused(.unauthenticated, "no challenge sent"), [])
        }
    }

    /// Replies with the connection's proven role and identity.
    struct WhoAmIHandler: FrameHandler {
        func handle(request: Frame, on connection: ServerConnection) throws {
            connection.respond(
                to: request, body: ErrorResponse(.ok, "\(connection.peerRole) \(connection.peerIdentity)").encode())
        }
    }

    @Test func theAuthenticatorDecidesTheRoleAndCanRefuse() throws {
        let (server, port) = try startServer(WhoAmIHandler(), authenticator: ClientsOnly())
        defer { server.stop() }
        let tool = try FrameClient.connect(
            host: "127.0.0.1", port: port, role: .tool, identity: "cli",
            logger: quietLogger)
        defer { tool.close() }
        let reply = try tool.call(type: .fetchChunk, body: [])  // ping is answered by the loop itself
        #expect(try ErrorResponse.decode(reply.body[...]).message == "client proven-cli")
        #expect(throws: ProtocolError.self) {
            _ = try FrameClient.connect(
                host: "127.0.0.1", port: port, role: .worker, identity: "w",
                logger: quietLogger)
        }
    }

    @Test func versionsInTheSupportedRangeAreAnsweredInTheirOwnVersion() throws {
        let (server, port) = try startServer(EchoHandler()) { $0.supportedVersions = 1...2 }
        defer { server.stop() }
        let current = try RawConnection(port: port)
        try current.sendHello(version: 2)
        let accepted = try HelloResponse.decode(try #require(try current.nextFrame()).body[...])
        #expect(accepted.status == .ok && accepted.version == 2)

        let future = try RawConnection(port: port)
        try future.sendHello(version: 3)
        let refused = try HelloResponse.decode(try #require(try future.nextFrame()).body[...])
        #expect(refused.status == .unsupportedVersion && refused.version == 2)
        #expect(refused.message.contains("1 to 2"))
        #expect(future.seesEndOfStream())
    }
}
