import Dispatch
import SluiceCore
import SluiceTestKit
import Synchronization
import Testing

@testable import SluiceNet

@Suite struct RoundTripTests {
    @Test func echoRoundTripPingAndUnknownType() throws {
        let (server, port) = try startServer(EchoHandler())
        defer { server.stop() }
        let client = try connectClient(port)
        defer { client.close() }
        #expect(client.serverId == "test-server")

        let reply = try client.call(type: .pushBatch, body: [1, 2, 3, 4])
        #expect(reply.isResponse)
        #expect(reply.type == MessageType.pushBatch.rawValue)
        #expect(reply.body == [1, 2, 3, 4])

        let empty = try client.call(type: .pushBatch, body: [])
        #expect(empty.body.isEmpty)

        let pong = try client.call(type: .ping, body: [])
        #expect(try status(of: pong) == .ok)

        let unknown = try client.call(rawType: 0x7777, body: [9])
        #expect(try status(of: unknown) == .unknownMessage)
        #expect(server.connectionCount == 1)
    }

    @Test func concurrentCallsOnOneClientCorrelate() throws {
        let (server, port) = try startServer(EchoHandler())
        defer { server.stop() }
        let client = try connectClient(
            port, config: FrameClientConfig(requestTimeoutMs: 20_000, maxInFlightRequests: 16))
        defer { client.close() }
        let mismatches = Counter()
        let successes = Counter()
        try runThreads(8) { thread in
            for call in 0..<200 {
                var body = [UInt8(thread), UInt8(call & 0xFF), UInt8(call >> 8)]
                body += [UInt8](repeating: UInt8(truncatingIfNeeded: thread &* 31 &+ call), count: call % 97)
                do {
                    let reply = try client.call(type: .pushBatch, body: body)
                    if reply.body == body { successes.increment() } else { mismatches.increment() }
                } catch {
                    mismatches.increment()
                }
            }
        }
        #expect(successes.value == 1_600)
        #expect(mismatches.value == 0)
        #expect(client.inFlightRequestCount == 0)
    }

    @Test func responsesFromAnotherThreadAndAsyncSend() throws {
        struct DeferredEcho: FrameHandler {
            func handle(request: Frame, on connection: ServerConnection) throws {
                DispatchQueue.global().async {
                    connection.respond(to: request, body: request.body.reversed())
                }
            }
        }
        let (server, port) = try startServer(DeferredEcho())
        defer { server.stop() }
        let client = try connectClient(port)
        defer { client.close() }
        #expect(try client.call(type: .pushBatch, body: [1, 2, 3]).body == [3, 2, 1])

        let results = Mutex<[UInt8: [UInt8]]>([:])
        for i in 0..<50 {
            client.send(type: .pushBatch, body: [UInt8(i), 0xAA]) { result in
                if case .success(let frame) = result { results.withLock { $0[UInt8(i)] = frame.body } }
            }
        }
        #expect(waitUntil(timeoutMs: 5_000) { results.withLock { $0.count } == 50 })
        let all = results.withLock { $0 }
        #expect(all.allSatisfy { key, body in body == [0xAA, key] })
    }

    @Test func secondAnswerIsIgnored() throws {
        struct DoubleReply: FrameHandler {
            func handle(request: Frame, on connection: ServerConnection) throws {
                #expect(connection.respond(to: request, body: [1]))
                #expect(!connection.respond(to: request, body: [2]))
            }
        }
        let (server, port) = try startServer(DoubleReply())
        defer { server.stop() }
        let client = try connectClient(port)
        defer { client.close() }
        #expect(try client.call(type: .pushBatch, body: []).body == [1])
        #expect(try client.call(type: .pushBatch, body: []).body == [1])
    }

    @Test func throwingHandlerAnswersWithItsStatus() throws {
        struct Failing: FrameHandler {
            func handle(request: Frame, on connection: ServerConnection) throws {
                throw ProtocolError(.unknownShuffle, "no such shuffle")
            }
        }
        let (server, port) = try startServer(Failing())
        defer { server.stop() }
        let client = try connectClient(port)
        defer { client.close() }
        let reply = try client.call(type: .openStream, body: [])
        #expect(try status(of: reply) == .unknownShuffle)
    }
}
