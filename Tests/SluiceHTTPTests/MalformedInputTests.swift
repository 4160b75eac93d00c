import SluiceHTTP
import SluiceTestKit
import Testing

/// Raw bytes the server must refuse or survive without crashing or stalling anyone else.
@Suite struct MalformedInputTests {
    @Test func garbageRequestLineGets400AndClose() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let socket = try RawSocket(port: port)
        socket.send("HELLO THERE\r\n\r\n")
        let (bytes, closed) = socket.read(timeoutMs: 5_000)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 400 "))
        #expect(closed)
    }

    /// Bytes that cannot begin a request line are refused at once, not after the request time-out (a minute here).
    @Test func garbageWithoutALineEndIsRefusedAtOnce() throws {
        let (server, port) = try startServer(testConfig(requestTimeoutMs: 60_000))
        defer { server.stop() }
        for garbage in [
            [UInt8]([0, 1, 2, 3, 0xFF]), Array(String(repeating: "A", count: 40).utf8), Array(" GET".utf8),
        ] {
            let socket = try RawSocket(port: port)
            socket.send(garbage)
            let (bytes, closed) = socket.read(timeoutMs: 5_000)
            #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 400 "), "\(garbage)")
            #expect(closed)
        }
        // A request arriving a byte at a time is not mistaken for garbage.
        let slow = try RawSocket(port: port)
        for byte in Array("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n".utf8) { slow.send([byte]) }
        #expect(slow.readResponse().hasPrefix("HTTP/1.1 200 "))
    }

    @Test func headersOverTheLimitGet431AndClose() throws {
        let (server, port) = try startServer(testConfig(maxHeaderBytes: 4_096))
        defer { server.stop() }
        let complete = try RawSocket(port: port)
        complete.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 10_000))\r\n\r\n")
        let (bytes, closed) = complete.read(timeoutMs: 5_000)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 431 "))
        #expect(closed)
        let endless = try RawSocket(port: port)
        endless.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 10_000))")
        #expect(endless.readResponse().hasPrefix("HTTP/1.1 431 "))
    }

    @Test func oversizedOrChunkedBodiesAreRefused() throws {
        let (server, port) = try startServer(testConfig(maxBodyBytes: 1_000))
        defer { server.stop() }
        let large = try RawSocket(port: port)
        large.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        #expect(large.readResponse().hasPrefix("HTTP/1.1 413 "))
        #expect(large.seesClose())
        let chunked = try RawSocket(port: port)
        chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        #expect(chunked.readResponse().hasPrefix("HTTP/1.1 501 "))
        #expect(chunked.seesClose())
    }

    @Test func truncatedHTTP2PrefaceThenCloseLeavesTheServerServing() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        do {
            let truncated = try RawSocket(port: port)
            truncated.send("PRI * HTTP/2.0\r\n")
        }
        try waitUntil("the truncated connection to close", timeoutMs: 5_000) { server.connectionCount == 0 }
        let result = try curl(["--http2-prior-knowledge"], port: port, path: "/hello")
        #expect(result.status == 200)
    }

    @Test func badHTTP2FrameGetsGoawayAndClose() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let socket = try RawSocket(port: port)
        var bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        bytes += [0, 0, 0, 4, 0, 0, 0, 0, 0]  // empty SETTINGS
        bytes += [0, 0, 4, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]  // DATA on stream 0: a connection error
        socket.send(bytes)
        let (answer, closed) = socket.read(timeoutMs: 5_000)
        #expect(closed)
        #expect(HTTP2Frames.types(answer).contains(7), "expected a GOAWAY frame in \(answer)")
        #expect(try curl(["--http2-prior-knowledge"], port: port, path: "/hello").status == 200)
    }

    @Test func upgradeWithMalformedSettingsGets400() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let socket = try RawSocket(port: port)
        socket.send(
            "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABk!\r\n\r\n")
        #expect(socket.readResponse().hasPrefix("HTTP/1.1 400 "))
        #expect(socket.seesClose())
    }

    @Test func pipelinedKeepAliveRequestsAreAnsweredInOrder() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let socket = try RawSocket(port: port)
        socket.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: x\r\n\r\n")
        let (bytes, closed) = socket.read(timeoutMs: 5_000) { String(decoding: $0, as: UTF8.self).contains("item 2\n") }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!closed)
        #expect(text.components(separatedBy: "HTTP/1.1 200 ").count == 3)
        #expect(
            text.firstRange(of: "item 1\n")?.lowerBound ?? text.endIndex < text.firstRange(of: "item 2\n")?.lowerBound
                ?? text.startIndex)
        socket.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(socket.readResponse().hasSuffix("hello\n"))
        #expect(socket.seesClose())
    }
}

/// Walks HTTP/2 frames (9-byte headers) in received bytes.
enum HTTP2Frames {
    static func types(_ bytes: [UInt8]) -> [UInt8] {
        var types: [UInt8] = []
        var offset = 0
        while offset + 9 <= bytes.count {
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            types.append(bytes[offset + 3])
            offset += 9 + length
        }
        return types
    }
}
