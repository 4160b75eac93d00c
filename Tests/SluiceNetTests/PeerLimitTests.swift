import SluiceCore
import SluiceTestKit
import Testing

@testable import SluiceNet

/// `maxConnectionsPerPeer`: one remote address cannot take every connection a server has.
@Suite struct PeerLimitTests {
    @Test func aConnectionBeyondThePeersLimitIsClosedAtOnceAndOtherPeersAreServed() throws {
        let (server, port) = try startServer(EchoHandler()) { $0.maxConnectionsPerPeer = 2 }
        defer { server.stop() }
        let first = try connectClient(port)
        defer { first.close() }
        let second = try connectClient(port)
        defer { second.close() }
        let extra = try RawConnection(port: port)
        #expect(extra.seesEndOfStream(), "the third connection from 127.0.0.1 is closed")
        // 127.0.0.2 is another peer: it is served while 127.0.0.1 is at its limit.
        let other = try RawConnection(port: port, sourceHost: 2)
        try other.sendHello()
        #expect(try other.nextFrame()?.isResponse == true)
        try other.send(frame: Frame(type: .pushBatch, requestId: 8, body: [9]))
        #expect(try other.nextFrame()?.body == [9])
        #expect(try first.call(type: .pushBatch, body: [1]).body == [1])
        // A closed connection frees its peer's place.
        first.close()
        #expect(waitUntil(timeoutMs: 5_000) { server.connectionCount == 2 })
        let third = try connectClient(port)
        defer { third.close() }
        #expect(try third.call(type: .pushBatch, body: [3]).body == [3])
    }

    @Test func thePeersAddressIsTheIPWithoutThePort() {
        #expect(Listener.host(of: "10.1.2.3:45678") == "10.1.2.3")
        #expect(Listener.host(of: "unknown") == "unknown")
    }
}
