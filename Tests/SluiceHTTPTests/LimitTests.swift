import Dispatch
import SluiceHTTP
import SluiceSystem
import SluiceTestKit
import Synchronization
import Testing

/// Connection limits and time-outs: idle and slow clients, too many connections, stop.
@Suite struct LimitTests {
    @Test func manyIdleConnectionsDoNotStallOthers() throws {
        let (server, port) = try startServer(testConfig(maxConnections: 300))
        defer { server.stop() }
        let threadsBefore = processThreadCount()
        #expect(threadsBefore > 0)
        let idle = try (0..<200).map { _ in try RawSocket(port: port) }
        try waitUntil("200 idle connections to be admitted", timeoutMs: 10_000) { server.connectionCount == 200 }
        // No thread per connection (other suites run meanwhile, so the bound is loose: a thread each would add 200).
        #expect(processThreadCount() - threadsBefore < 100)
        let active = try RawSocket(port: port)
        active.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(active.readResponse(timeoutMs: 10_000).hasSuffix("hello\n"))
        #expect(try curl(["--http2-prior-knowledge"], port: port, path: "/hello").status == 200)
        #expect(idle.count == 200)
    }

    @Test func headersOverTheLimitGet431WhileOtherClientsAreServed() throws {
        let (server, port) = try startServer(testConfig(maxHeaderBytes: 4_096))
        defer { server.stop() }
        let waiting = try RawSocket(port: port)
        let oversized = try RawSocket(port: port)
        oversized.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 10_000))\r\n\r\n")
        #expect(oversized.readResponse().hasPrefix("HTTP/1.1 431 "))
        #expect(oversized.seesClose())
        waiting.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(waiting.readResponse().hasSuffix("hello\n"), "a client connected before is served")
        let later = try RawSocket(port: port)
        later.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(later.readResponse().hasSuffix("hello\n"), "and so is one connecting after")
    }

    @Test func slowClientIsClosedAfterTheRequestTimeout() throws {
        let (server, port) = try startServer(testConfig(idleTimeoutMs: 60_000, requestTimeoutMs: 300))
        defer { server.stop() }
        let slow = try RawSocket(port: port)
        slow.send("GET /hel")
        #expect(slow.seesClose(timeoutMs: 10_000))
        let slowPreface = try RawSocket(port: port)
        slowPreface.send("PRI * HTTP/2.0\r\n")
        #expect(slowPreface.seesClose(timeoutMs: 10_000))
        let prompt = try RawSocket(port: port)
        prompt.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(prompt.readResponse().hasSuffix("hello\n"))
    }

    @Test func idleConnectionIsClosedAfterTheIdleTimeout() throws {
        let (server, port) = try startServer(testConfig(idleTimeoutMs: 1_000))
        defer { server.stop() }
        let socket = try RawSocket(port: port)
        socket.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(socket.readResponse().hasSuffix("hello\n"))
        #expect(socket.seesClose(timeoutMs: 10_000))
        try waitUntil("the server to forget the connection", timeoutMs: 5_000) { server.connectionCount == 0 }
    }

    @Test func connectionsBeyondTheLimitAreClosed() throws {
        let (server, port) = try startServer(testConfig(maxConnections: 4))
        defer { server.stop() }
        let admitted = try (0..<4).map { _ in try RawSocket(port: port) }
        try waitUntil("4 connections to be admitted", timeoutMs: 5_000) { server.connectionCount == 4 }
        let extra = try RawSocket(port: port)
        #expect(extra.seesClose())
        admitted[0].send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(admitted[0].readResponse().hasSuffix("hello\n"))
    }

    @Test func pipelinedRequestsBeyondTheOutputLimitAreAllAnswered() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let socket = try RawSocket(port: port)
        // 5 x 300 KB of answers exceed the 1 MiB the server lets pile up: it must hold requests back and resume.
        socket.send(
            String(repeating: "GET /big HTTP/1.1\r\nHost: x\r\n\r\n", count: 5)
                + "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let (bytes, closed) = socket.read(timeoutMs: 10_000)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(closed)
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 7)
        #expect(bytes.count > 5 * bigBodyBytes)
        #expect(text.hasSuffix("hello\n"))
    }

    @Test func stopClosesEveryConnection() throws {
        let (server, port) = try startServer()
        let idle = try RawSocket(port: port)
        let partial = try RawSocket(port: port)
        partial.send("GET /hello HTTP/1.1\r\nHo")
        let http2 = try RawSocket(port: port)
        http2.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        try waitUntil("3 connections to be admitted", timeoutMs: 5_000) { server.connectionCount == 3 }
        #expect(server.stop())
        #expect(server.connectionCount == 0)
        #expect(idle.seesClose())
        #expect(partial.seesClose())
        #expect(http2.seesClose())
        #expect(SocketCensus.openConnections(localPort: port) == 0)
        #expect(throws: (any Error).self) { _ = try RawSocket(port: port) }
    }

    @Test func stopWhileClientsConnectLeavesNothingOpen() throws {
        let (server, port) = try startServer()
        let opened = Mutex(0)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var sockets: [RawSocket] = []
            for _ in 0..<300 {
                guard let socket = try? RawSocket(port: port) else { break }
                socket.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                sockets.append(socket)
                opened.withLock { $0 += 1 }
            }
            done.signal()
        }
        try waitUntil("clients to start connecting", timeoutMs: 5_000) { opened.withLock { $0 } >= 20 }
        #expect(server.stop())
        done.wait()
        #expect(server.connectionCount == 0)
        #expect(SocketCensus.openConnections(localPort: port) == 0)
    }
}
