import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceNet

#if canImport(Glibc)
    import Glibc
#endif

/// Answers every request with the peer address the server sees.
struct PeerAddressHandler: FrameHandler {
    func handle(request: Frame, on connection: ServerConnection) throws {
        connection.respond(to: request, body: Array(connection.peerAddress.utf8))
    }
}

/// Listening and connecting over IPv6: `::` takes IPv4 and IPv6, `0.0.0.0` stays IPv4, `::1` is reached as such,
/// and peers print as `a.b.c.d:port` or `[v6]:port`.
@Suite struct DualStackTests {
    static let ipv6Works =
        (try? ListeningSocket.open(host: "::1", port: 0, backlog: 1, nonBlocking: true)).map {
            close($0.fd)
            return true
        } ?? false

    /// Connects to `host:port` and returns the peer address the server saw.
    static func seenPeer(host: String, port: Int) throws -> String {
        let client = try FrameClient.connect(
            host: host, port: port, role: .client, identity: "dual-stack", config: FrameClientConfig(),
            logger: quietLogger)
        defer { client.close() }
        #expect(client.endpoint == EndpointText.format(host: host, port: port))
        return String(decoding: try client.call(type: .pushBatch, body: []).body, as: UTF8.self)
    }

    @Test(.enabled(if: ipv6Works, "::1 cannot be bound here"))
    func aListenerOnTheIPv6WildcardTakesIPv4AndIPv6() throws {
        let (server, port) = try startServer(PeerAddressHandler()) { $0.host = "::" }
        defer { server.stop() }
        let overIPv4 = try Self.seenPeer(host: "127.0.0.1", port: port)
        #expect(overIPv4.hasPrefix("127.0.0.1:"), "an IPv4-mapped peer prints in its IPv4 form: \(overIPv4)")
        let overIPv6 = try Self.seenPeer(host: "::1", port: port)
        #expect(overIPv6.hasPrefix("[::1]:"), "\(overIPv6)")
        #expect(EndpointText.parse(overIPv6)?.host == "::1")
        #expect(Listener.host(of: overIPv6) == "::1")
    }

    /// A listener on one family's address takes that family only: `0.0.0.0` and `127.0.0.1` no IPv6, `::1` no IPv4.
    @Test(
        .enabled(if: ipv6Works, "::1 cannot be bound here"),
        arguments: [("0.0.0.0", "127.0.0.1", "::1"), ("127.0.0.1", "127.0.0.1", "::1"), ("::1", "::1", "127.0.0.1")])
    func aListenerTakesItsOwnFamilyOnly(listen: String, reachedAt: String, refusedAt: String) throws {
        let (server, port) = try startServer(PeerAddressHandler()) { $0.host = listen }
        defer { server.stop() }
        let seen = try Self.seenPeer(host: reachedAt, port: port)
        #expect(seen == EndpointText.format(host: reachedAt, port: EndpointText.parse(seen)?.port ?? -1), "\(seen)")
        #expect(throws: NetError.self) { try Self.seenPeer(host: refusedAt, port: port) }
    }

    /// A pool keys clients by the bracketed endpoint, and takes it back apart.
    @Test(.enabled(if: ipv6Works, "::1 cannot be bound here"))
    func aPoolReachesAnIPv6EndpointByItsText() throws {
        let (server, port) = try startServer(PeerAddressHandler()) { $0.host = "::1" }
        defer { server.stop() }
        let pool = FrameClientPool(role: .client, identity: "pool", config: FrameClientConfig(), logger: quietLogger)
        defer { pool.closeAll() }
        let client = try pool.client(endpoint: "[::1]:\(port)")
        #expect(client.endpoint == "[::1]:\(port)")
        #expect(try pool.client(host: "::1", port: port) === client, "the same endpoint gives the same client")
        #expect(String(decoding: try client.call(type: .pushBatch, body: []).body, as: UTF8.self).hasPrefix("[::1]:"))
    }

    /// The addresses a name resolves to are tried in order: one that refuses (nothing listens on ::1 at that
    /// port) is passed over for the next, which answers.
    @Test(.enabled(if: ipv6Works, "::1 cannot be bound here"))
    func connectingTriesEachAddressInTurn() throws {
        let (server, port) = try startServer(PeerAddressHandler())
        defer { server.stop() }
        let addresses =
            try SocketAddress.resolve(host: "::1", port: port, passive: false)
            + SocketAddress.resolve(host: "127.0.0.1", port: port, passive: false)
        let fd = try Sockets.connect(to: addresses, timeoutMs: 5_000, what: "test")
        defer { close(fd) }
        #expect(try SocketAddress.local(of: fd).family == AF_INET)
        #expect(throws: NetError.self) {
            try Sockets.connect(to: Array(addresses.prefix(1)), timeoutMs: 5_000, what: "")
        }
    }
}
