import SluiceCore
import SluiceTestKit
import Testing

@testable import SluiceNet

@Suite struct ServerLimitTests {
    @Test func oversizedFrameGetsFrameTooLargeAndOthersKeepWorking() throws {
        let (server, port) = try startServer(EchoHandler()) { $0.maxFrameBodyBytes = 1_024 }
        defer { server.stop() }
        let good = try connectClient(port)
        defer { good.close() }
        let peer = try RawConnection(port: port)
        try peer.sendHello()
        _ = try #require(try peer.nextFrame())
        let header = FrameHeader(bodyLength: 1_000_000, type: MessageType.pushBatch.rawValue, flags: [], requestId: 99)
        try peer.sendAll(header.encoded + [UInt8](repeating: 0, count: 4_096))
        let reply = try #require(try peer.nextFrame())
        #expect(reply.requestId == 99)
        #expect(try status(of: reply) == .frameTooLarge)
        #expect(peer.seesEndOfStream())
        #expect(try good.call(type: .pushBatch, body: [5]).body == [5])
    }

    @Test func unknownFlagsAreMalformed() throws {
        let (server, port) = try startServer(EchoHandler())
        defer { server.stop() }
        let peer = try RawConnection(port: port)
        try peer.sendHello()
        _ = try #require(try peer.nextFrame())
        try peer.sendAll(
            FrameHeader(bodyLength: 0, type: 0x31, flags: FrameFlags(rawValue: 0x80), requestId: 5).encoded)
        let reply = try #require(try peer.nextFrame())
        #expect(try status(of: reply) == .malformed)
        #expect(peer.seesEndOfStream())
    }

    @Test func truncatedFrameClosesOnlyThatConnection() throws {
        let handler = HoldingHandler()
        let (server, port) = try startServer(handler)
        defer { server.stop() }
        let good = try connectClient(port)
        defer { good.close() }
        let peer = try RawConnection(port: port)
        try peer.sendHello()
        _ = try #require(try peer.nextFrame())
        #expect(waitUntil(timeoutMs: 5_000) { server.connectionCount == 2 })
        let header = FrameHeader(bodyLength: 100, type: MessageType.pushBatch.rawValue, flags: [], requestId: 1)
        try peer.sendAll(header.encoded + [UInt8](repeating: 1, count: 10))
        peer.shutdownWrite()
        #expect(peer.seesEndOfStream())
        #expect(waitUntil(timeoutMs: 5_000) { server.connectionCount == 1 })
        #expect(handler.invocations.load(ordering: .sequentiallyConsistent) == 0)
        #expect(good.isConnected)
        good.send(type: .pushBatch, body: [1]) { _ in }
        #expect(waitUntil(timeoutMs: 5_000) { handler.heldCount == 1 })
        handler.release()
    }

    @Test func responseFrameFromClientIsMalformed() throws {
        let (server, port) = try startServer(EchoHandler())
        defer { server.stop() }
        let peer = try RawConnection(port: port)
        try peer.sendHello()
        _ = try #require(try peer.nextFrame())
        try peer.send(frame: Frame(type: .pushBatch, flags: .response, requestId: 3, body: []))
        let reply = try #require(try peer.nextFrame())
        #expect(try status(of: reply) == .malformed)
        #expect(peer.seesEndOfStream())
    }

    @Test func idleConnectionIsClosed() throws {
        let (server, port) = try startServer(EchoHandler()) { $0.idleTimeoutMs = 400 }
        defer { server.stop() }
        let client = try connectClient(port)
        defer { client.close() }
        #expect(try client.call(type: .pushBatch, body: [1]).body == [1])
        #expect(waitUntil(timeoutMs: 5_000) { !client.isConnected })
        #expect(waitUntil(timeoutMs: 5_000) { server.connectionCount == 0 })
        #expect(throws: NetError.self) { try client.call(type: .pushBatch, body: [1]) }
    }

    @Test func maxConnectionsRefusesTheExtraConnection() throws {
        let (server, port) = try startServer(EchoHandler()) { $0.maxConnections = 2 }
        defer { server.stop() }
        let first = try connectClient(port)
        defer { first.close() }
        let second = try connectClient(port)
        defer { second.close() }
        #expect(throws: (any Error).self) { _ = try connectClient(port) }
        #expect(try first.call(type: .pushBatch, body: [1]).body == [1])
        #expect(try second.call(type: .pushBatch, body: [2]).body == [2])
        first.close()
        #expect(waitUntil(timeoutMs: 5_000) { server.connectionCount == 1 })
        let third = try connectClient(port)
        defer { third.close() }
        #expect(try third.call(type: .pushBatch, body: [3]).body == [3])
    }

    @Test func readerStopsAtTheInFlightBound() throws {
        let handler = HoldingHandler()
        let (server, port) = try startServer(handler) { $0.maxInFlightRequestsPerConnection = 4 }
        defer { server.stop() }
        let client = try connectClient(port)
        defer { client.close() }
        let answered = Counter()
        for i in 0..<10 {
            client.send(type: .pushBatch, body: [UInt8(i)]) { result in
                if case .success = result { answered.increment() }
            }
        }
        #expect(waitUntil(timeoutMs: 5_000) { handler.heldCount == 4 })
        // The server answers pings itself, but only once it reads them: the reader must be parked.
        #expect(throws: NetError.self) { _ = try client.call(type: .ping, body: [], timeoutMs: 300) }
        #expect(handler.invocations.load(ordering: .sequentiallyConsistent) == 4)
        handler.release(1)
        #expect(waitUntil(timeoutMs: 5_000) { handler.invocations.load(ordering: .sequentiallyConsistent) == 5 })
        #expect(
            waitUntil(timeoutMs: 5_000) {
                handler.release()
                return answered.value == 10
            })
        #expect(try status(of: client.call(type: .ping, body: [])) == .ok)
    }
}
