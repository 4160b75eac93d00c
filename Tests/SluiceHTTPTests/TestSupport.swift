import Foundation
import Logging
import SluiceHTTP
import SluiceSystem
import SluiceTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// Settings for a test server on 127.0.0.1, random port; each test overrides what it exercises.
func testConfig(
    maxConnections: Int = 512, maxHeaderBytes: Int = 8 * 1024, maxBodyBytes: Int = 64 * 1024,
    idleTimeoutMs: Int = 30_000, requestTimeoutMs: Int = 10_000
) -> HTTPServerConfig {
    HTTPServerConfig(
        host: "127.0.0.1", port: 0, maxConnections: maxConnections, maxHeaderBytes: maxHeaderBytes,
        maxBodyBytes: maxBodyBytes, maxConcurrentStreams: 16, idleTimeoutMs: idleTimeoutMs,
        requestTimeoutMs: requestTimeoutMs, listenBacklog: 512, stopTimeoutMs: 5_000)
}

/// Bytes of the body of GET /big: over nghttp2's initial 64 KiB window, so flow control must work.
let bigBodyBytes = 300_000

/// GET /hello, POST /echo, GET /items/{id}, GET /big.
func testRouter() -> HTTPRouter {
    var router = HTTPRouter()
    router.add("GET", "/hello") { _ in .text(200, "hello\n") }
    router.add("POST", "/echo") { request in HTTPResponse(status: 200, body: request.body) }
    router.add("GET", "/items/{id}") { request in .text(200, "item \(request.pathParameters["id"] ?? "?")\n") }
    router.add("GET", "/big") { _ in HTTPResponse(status: 200, body: (0..<bigBodyBytes).map { UInt8($0 % 251) }) }
    return router
}

/// A started server and its port.
func startServer(_ config: HTTPServerConfig = testConfig()) throws -> (HTTPServer, Int) {
    let server = HTTPServer(config: config, router: testRouter(), logger: quietLogger)
    let port = try server.start()
    return (server, port)
}

/// Threads of this process (entries of /proc/self/task).
func processThreadCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
}

/// The kit's raw connection, with what HTTP tests read: byte streams and HTTP/1.1 responses.
typealias RawSocket = RawConnection

extension RawConnection {
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// The text of one HTTP/1.1 response (head and Content-Length body), or what came before close/time-out.
    func readResponse(timeoutMs: Int = 5_000) -> String {
        String(decoding: read(timeoutMs: timeoutMs, until: RawSocket.holdsResponse).bytes, as: UTF8.self)
    }

    /// True when the server closes the connection within `timeoutMs`, whatever it sends first.
    func seesClose(timeoutMs: Int = 5_000) -> Bool { read(timeoutMs: timeoutMs).closed }

    static func holdsResponse(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        let length =
            head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        return text.utf8.count - text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound) >= length
    }
}
