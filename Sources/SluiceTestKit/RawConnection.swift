import SluiceCore
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

/// A plain blocking TCP socket to 127.0.0.1 for tests that must send arbitrary bytes (no framing, no handshake)
/// and read back whole frames, or raw bytes (HTTP tests), with a deadline. Used by one thread; closes its descriptor when released.
public final class RawConnection {
    /// What one read ended with.
    public enum Reply {
        /// A complete frame.
        case frame(FrameHeader, [UInt8])
        /// End of stream or reset, before or inside a frame: the server closed the connection.
        case closed
        /// Nothing complete arrived before the deadline while the connection stayed open.
        case timedOut
        /// Bytes that are not a frame header a client could accept.
        case invalid(String)
    }

    private let fd: Int32

    /// Connects to `127.0.0.1:port` with TCP_NODELAY.
    /// - Throws: `TestKitError` when `socket` or `connect` fails.
    public init(port: Int) throws {
        fd = try LoopbackSockets.connect(port: port)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Connects to `127.0.0.1:port` from `127.0.0.sourceHost` with TCP_NODELAY: another peer address to a server.
    /// - Throws: `TestKitError` when `socket`, `bind` or `connect` fails.
    public init(port: Int, sourceHost: UInt8) throws {
        fd = try LoopbackSockets.connect(port: port, sourceHost: sourceHost)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { _ = close(fd) }

    /// Writes all of `bytes`. Returns false when the peer already closed (EPIPE, reset): not an error for
    /// a fuzzer, whose inputs may be refused before they are fully written.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                buffer.baseAddress.map { Glibc.send(fd, $0 + sent, buffer.count - sent, Int32(MSG_NOSIGNAL)) } ?? -1
            }
            if n > 0 {
                sent += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    /// Writes all of `bytes`.
    /// - Throws: `TestKitError` when the peer closed before all were written.
    public func sendAll(_ bytes: [UInt8]) throws {
        guard send(bytes) else { throw TestKitError.system("send of \(bytes.count) bytes") }
    }

    /// Writes `frame` (header and body).
    /// - Throws: `TestKitError` when the peer closed before all was written.
    public func send(frame: Frame) throws { try sendAll(frame.encoded) }

    /// Writes a hello request of a tool (request id 7) announcing `version`.
    /// - Throws: `TestKitError` when the peer closed before all was written.
    public func sendHello(version: UInt16 = ProtocolVersion.current) throws {
        let body = HelloRequest(version: version, role: .tool, identity: "raw").encode()
        try send(frame: Frame(type: .hello, requestId: 7, body: body))
    }

    /// Sends our end of stream (FIN) while still reading: the server sees a truncated input end.
    public func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }

    /// Reads one frame (response or not) within `timeoutMs`; bodies over `maxBodyBytes` are `.invalid`.
    public func readFrame(timeoutMs: Int, maxBodyBytes: Int = 1 << 20) -> Reply {
        let deadlineNs = Monotonic.nowNs() + UInt64(timeoutMs) * 1_000_000
        let (raw, headerEnd) = readExactly(FrameHeader.byteCount, deadlineNs: deadlineNs)
        guard headerEnd == .complete else { return headerEnd == .closed ? .closed : .timedOut }
        let header: FrameHeader
        do {
            header = try FrameHeader.decode(raw[...], maxBodyBytes: maxBodyBytes)
        } catch {
            return .invalid("undecodable header \(raw): \(error)")
        }
        let (body, bodyEnd) = readExactly(Int(header.bodyLength), deadlineNs: deadlineNs)
        switch bodyEnd {
        case .complete: return .frame(header, body)
        case .closed: return .closed
        case .timedOut: return .timedOut
        }
    }

    /// The next frame, or nil when the server closed the connection.
    /// - Throws: `TimedOut` when nothing complete arrives within `timeoutMs`, `TestKitError` for an invalid header.
    public func nextFrame(timeoutMs: Int = 5_000) throws -> Frame? {
        switch readFrame(timeoutMs: timeoutMs) {
        case .frame(let header, let body):
            return Frame(type: header.type, flags: header.flags, requestId: header.requestId, body: body)
        case .closed: return nil
        case .timedOut: throw TimedOut(what: "a frame within \(timeoutMs) ms")
        case .invalid(let why): throw TestKitError(why)
        }
    }

    /// True when the server closes the connection (end of stream or reset) within `timeoutMs` per frame,
    /// reading and dropping the frames it sends before.
    public func seesEndOfStream(timeoutMs: Int = 5_000) -> Bool {
        while true {
            switch readFrame(timeoutMs: timeoutMs) {
            case .frame: continue
            case .closed: return true
            case .timedOut, .invalid: return false
            }
        }
    }

    /// Reads until the server closes (true) or `timeoutMs` passes (false), or `enough` holds for what was read.
    public func read(timeoutMs: Int, until enough: ([UInt8]) -> Bool = { _ in false }) -> (bytes: [UInt8], closed: Bool)
    {
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

    private enum ReadEnd { case complete, closed, timedOut }

    private func readExactly(_ count: Int, deadlineNs: UInt64) -> ([UInt8], ReadEnd) {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let now = Monotonic.nowNs()
            guard now < deadlineNs else { return (bytes, .timedOut) }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(clamping: (deadlineNs - now) / 1_000_000 + 1))
            if ready < 0 && errno != EINTR { return (bytes, .closed) }
            if ready <= 0 { continue }
            let n = bytes.withUnsafeMutableBytes { buffer in
                buffer.baseAddress.map { recv(fd, $0 + filled, count - filled, 0) } ?? -1
            }
            if n > 0 {
                filled += n
            } else if n == 0 {
                return (bytes, .closed)
            } else if errno != EINTR && errno != EAGAIN {
                return (bytes, .closed)  // ECONNRESET and the like: the server dropped the connection
            }
        }
        return (bytes, .complete)
    }
}
