import SluiceCore
import SluiceTestKit
import Testing

@testable import SluiceNet

@Suite struct HandshakeTests {
    @Test func requestBeforeHelloIsRefusedAndClosed() throws {
        let (server, port) = try startServer(EchoHandler())
        defer { server.stop() }
        let peer = try RawConnection(port: port)
        try peer.send(frame: Frame(type: .pushBatch, requestId: 42, body: [1, 2]))
        let reply = try #require(try peer.nextFrame())
        #expect(reply.isResponse)
        #expect(reply.requestId == 42)
        #expect(try status(of: reply) == .handshakeRequired)
        #expect(peer.seesEndOfStream())
    }

    @Test func wrongVersionIsRefused() throws {
        let (server, port) = try startServer(EchoHandler())
        defer { server.stop() }
        let peer = try RawConnection(port: port)
        try peer.sendHello(version: ProtocolVersion.current + 1)
        let reply = try #require(try peer.nextFrame())
        let hello = try HelloResponse.decode(reply.body[...])
        #expect(hello.status == .unsupportedVersion)
        #expect(hello.version == ProtocolVersion.current)
        #expect(peer.seesEndOfStream())
    }

    @Test func badMagicIsMalformed() throws {
        let (server, port) = try startServer(EchoHandler())
        defer { server.stop() }
        let peer = try RawConnection(port: port)
        var body = HelloRequest(role: .client, identity: "x").encode()
        body[0] ^= 0xFF
        try peer.send(frame: Frame(type: .hello, requestId: 1, body: body))
        let reply = try #require(try peer.nextFrame())
        #expect(try status(of: reply) == .malformed)
        #expect(peer.seesEndOfStream())
    }

    @Test func validHelloIsAnsweredWithServerId() throws {
        let (server, port) = try startServer(EchoHandler())
        defer { server.stop() }
        let peer = try RawConnection(port: port)
        try peer.sendHello()
        let reply = try #require(try peer.nextFrame())
        #expect(reply.requestId == 7)
        #expect(reply.type == MessageType.hello.rawValue)
        let hello = try HelloResponse.decode(reply.body[...])
        #expect(hello == HelloResponse(serverId: "test-server"))
        #expect(waitUntil(timeoutMs: 5_000) { server.connectionCount == 1 })
    }
}
