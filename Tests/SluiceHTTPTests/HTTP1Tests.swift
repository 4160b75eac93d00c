import SluiceHTTP
import SluiceTestKit
import Testing

/// HTTP/1.x details a raw client can see: HEAD, HTTP/1.0 closing, 100-continue.
@Suite struct HTTP1Tests {
    @Test func headGetsTheLengthWithoutTheBody() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let socket = try RawSocket(port: port)
        socket.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /items/5 HTTP/1.1\r\nHost: x\r\n\r\n")
        let (bytes, _) = socket.read(timeoutMs: 5_000) { String(decoding: $0, as: UTF8.self).hasSuffix("item 5\n") }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("content-length: 6\r\n"))
        #expect(!text.contains("hello"))
        #expect(text.hasSuffix("item 5\n"))
    }

    @Test func http10ClosesUnlessAskedToKeepAlive() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let plain = try RawSocket(port: port)
        plain.send("GET /hello HTTP/1.0\r\n\r\n")
        let (bytes, closed) = plain.read(timeoutMs: 5_000)
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("hello\n"))
        #expect(closed)
        let kept = try RawSocket(port: port)
        kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(kept.readResponse().hasSuffix("hello\n"))
        kept.send("GET /items/3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(kept.readResponse().hasSuffix("item 3\n"))
    }

    @Test func expectContinueIsAnsweredBeforeTheBody() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let socket = try RawSocket(port: port)
        socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let (interim, _) = socket.read(timeoutMs: 5_000) { String(decoding: $0, as: UTF8.self).hasSuffix("\r\n\r\n") }
        #expect(String(decoding: interim, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        socket.send("hello")
        let text = socket.readResponse()
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.hasSuffix("\r\n\r\nhello"))
    }
}
