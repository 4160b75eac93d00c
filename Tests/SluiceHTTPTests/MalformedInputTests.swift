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

    @Test func pipelinedKeepAliveRequestsAreAnsweredInOrder() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let socket = try RawSocket(port: port)
        socket.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: x\r\n\r\n")
        let (bytes, closed) = socket.read(timeoutMs: 5_000) { String(decoding: $0, as: UTF8.self).contains("item 2\n") }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!closed)
        #expect(text.components(separatedBy: "HTTP/1.1 200 ").count == 3)
        #expect(text.firstRange(of: "item 1\n")?.lowerBound ?? text.endIndex < text.firstRange(of: "item 2\n")?.lowerBound ?? text.startIndex)
        socket.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(socket.readResponse().hasSuffix("hello\n"))
        #expect(socket.seesClose())
    }
}

