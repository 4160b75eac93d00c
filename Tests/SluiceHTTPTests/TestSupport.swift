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

/// A blocking client socket for sending arbitrary bytes and reading what comes back, with deadlines.
final class RawSocket {
    let fd: Int32

    init(port: Int) throws { fd = try LoopbackSockets.connect(port: port) }

    deinit { _ = close(fd) }

    /// Writes all of `bytes`; false when the server closed first.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                buffer.baseAddress.map { Glibc.send(fd, $0 + sent, buffer.count - sent, Int32(MSG_NOSIGNAL)) } ?? -1
            }
            if n > 0 { sent += n } else if n < 0 && errno == EINTR { continue } else { return false }
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Sends our end of stream (FIN) while still reading.
    func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until the server closes (true) or `timeoutMs` passes (false), or `enough` holds for what was read.
    func read(timeoutMs: Int, until enough: ([UInt8]) -> Bool = { _ in false }) -> (bytes: [UInt8], closed: Bool) {
        let deadlineNs = Monotonic.nowNs() + UInt64(timeoutMs) * 1_000_000
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while !enough(bytes) {
            let now = Monotonic.nowNs()
            guard now < deadlineNs else { return (bytes, false) }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(clamping: (deadlineNs - now) / 1_000_000 + 1))
            if ready <= 0 { continue }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                bytes.append(contentsOf: chunk[0..<n])
            } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                return (bytes, true)
            }
        }
        return (bytes, false)
    }

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
