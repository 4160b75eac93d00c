import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceNet

@Suite struct ClientTests {
    @Test func requestTimesOutAndLateResponseIsDropped() throws {
        let handler = HoldingHandler()
        let (server, port) = try startServer(handler)
        defer { server.stop() }
        let client = try connectClient(port)
        defer { client.close() }
        let started = Monotonic.nowMs()
        do {
            _ = try client.call(type: .pushBatch, body: [1], timeoutMs: 100)
            Issue.record("the call should have timed out")
        } catch let error as NetError {
            #expect(error.isTimeout)
        }
        #expect(Monotonic.nowMs() - started < 3_000)
        #expect(client.inFlightRequestCount == 0)
        handler.release()  // the late response arrives and is dropped
        #expect(client.isConnected)
        client.send(type: .pushBatch, body: [2]) { _ in }
        #expect(waitUntil(timeoutMs: 5_000) { handler.heldCount == 1 })
        handler.release()
    }

    @Test func serverStopFailsPendingCallsPromptly() throws {
        let handler = HoldingHandler()
        let (server, port) = try startServer(handler)
        let client = try connectClient(port, config: FrameClientConfig(requestTimeoutMs: 30_000))
        defer { client.close() }
        let failed = Counter()
        for i in 0..<3 {
            client.send(type: .pushBatch, body: [UInt8(i)]) { result in
                if case .failure(let error as NetError) = result, !error.isTimeout { failed.increment() }
            }
        }
        #expect(waitUntil(timeoutMs: 5_000) { handler.heldCount == 3 })
        let started = Monotonic.nowMs()
        server.stop()
        #expect(waitUntil(timeoutMs: 3_000) { failed.value == 3 })
        #expect(Monotonic.nowMs() - started < 3_000)
        #expect(!client.isConnected)
        #expect(server.connectionCount == 0)
        #expect(throws: NetError.self) { _ = try client.call(type: .pushBatch, body: [9]) }
        handler.release()  // answering after the connection died is harmless
    }

    @Test func inFlightSlotWaitTimesOut() throws {
        let handler = HoldingHandler()
        let (server, port) = try startServer(handler)
        defer { server.stop() }
        let client = try connectClient(
            port, config: FrameClientConfig(requestTimeoutMs: 10_000, maxInFlightRequests: 2))
        defer { client.close() }
        client.send(type: .pushBatch, body: [1]) { _ in }
        client.send(type: .pushBatch, body: [2]) { _ in }
        #expect(throws: NetError.self) { _ = try client.call(type: .pushBatch, body: [3], timeoutMs: 100) }
        #expect(waitUntil(timeoutMs: 5_000) { handler.heldCount == 2 })
        handler.release()
        #expect(waitUntil(timeoutMs: 5_000) { client.inFlightRequestCount == 0 })
        client.send(type: .pushBatch, body: [4]) { _ in }
        #expect(waitUntil(timeoutMs: 5_000) { handler.heldCount == 1 })
        handler.release()
    }

    @Test func connectToClosedPortFails() throws {
        let (server, port) = try startServer(EchoHandler())
        server.stop()
        #expect(throws: NetError.self) { _ = try connectClient(port) }
    }

    @Test func poolReusesAndReplacesDeadClients() throws {
        let (server, port) = try startServer(EchoHandler())
        defer { server.stop() }
        let pool = FrameClientPool(role: .worker, identity: "pool-test", logger: quietLogger)
        defer { pool.closeAll() }
        let first = try pool.client(host: "127.0.0.1", port: port)
        let again = try pool.client(endpoint: "127.0.0.1:\(port)")
        #expect(first === again)
        #expect(pool.clientCount == 1)
        first.close()
        let replaced = try pool.client(host: "127.0.0.1", port: port)
        #expect(replaced !== first)
        #expect(try replaced.call(type: .pushBatch, body: [7]).body == [7])
        #expect(waitUntil(timeoutMs: 5_000) { server.connectionCount == 1 })
        pool.closeAll()
        #expect(throws: NetError.self) { _ = try pool.client(host: "127.0.0.1", port: port) }
    }
}
