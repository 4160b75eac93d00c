#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceSystem

/// A failure to set up a raw test socket.
struct RawSocketError: Error, CustomStringConvertible {
    let description: String

    init(_ call: String) { description = "\(call) failed: errno \(errno)" }
}

/// A plain blocking TCP socket to 127.0.0.1 for tests that must send arbitrary bytes (no framing, no handshake)
/// and read back whole frames with a deadline. Used by one thread; closes its descriptor when released.
final class RawConnection {
    /// What one read ended with.
    enum Reply {
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

    /// Connects to `127.0.0.1:port`.
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RawSocketError("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let error = RawSocketError("connect to port \(port)")
            _ = close(fd)
            throw error
        }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { _ = close(fd) }

    /// Writes all of `bytes`. Returns false when the peer already closed (EPIPE, reset): not an error for
    /// a fuzzer, whose inputs may be refused before they are fully written.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
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

    /// Sends our end of stream (FIN) while still reading: the server sees a truncated input end.
    func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }

    /// Reads one frame (response or not) within `timeoutMs`; bodies over `maxBodyBytes` are `.invalid`.
    func readFrame(timeoutMs: Int, maxBodyBytes: Int = 1 << 20) -> Reply {
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

/// Counts the TCP connections this process holds open on a local port: for an in-process server, the server
/// side of every accepted connection whose descriptor is still open (a leaked connection thread keeps one).
/// Reads /proc/self/fd (descriptors that are sockets) and /proc/self/net/tcp (their ports and states).
enum SocketCensus {
    static func openConnections(localPort: Int) -> Int {
        let inodes = socketInodes()
        var count = 0
        for line in readFile("/proc/self/net/tcp").split(separator: "\n").dropFirst() {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
            let fields = line.split(separator: " ")
            guard fields.count > 9, let colon = fields[1].lastIndex(of: ":"),
                  let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16) else { continue }
            let listening = fields[3] == "0A"
            if port == localPort && !listening && inodes.contains(String(fields[9])) { count += 1 }
        }
        return count
    }

    /// Inode numbers of the sockets among this process's open descriptors.
    private static func socketInodes() -> Set<String> {
        var result: Set<String> = []
        guard let directory = opendir("/proc/self/fd") else { return result }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            var target = [CChar](repeating: 0, count: 256)
            let length = readlink("/proc/self/fd/\(name)", &target, target.count - 1)
            guard length > 0 else { continue }
            let link = String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if link.hasPrefix("socket:["), link.hasSuffix("]") {
                result.insert(String(link.dropFirst("socket:[".count).dropLast()))
            }
        }
        return result
    }

    /// The whole text of a (proc) file, read until its end; empty when it cannot be opened.
    private static func readFile(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Polls `condition` every few milliseconds until it holds or `timeoutMs` passes; returns its last value.
func waitUntil(timeoutMs: Int, _ condition: () -> Bool) -> Bool {
    let deadlineNs = Monotonic.nowNs() + UInt64(timeoutMs) * 1_000_000
    while !condition() {
        guard Monotonic.nowNs() < deadlineNs else { return condition() }
        usleep(5_000)
    }
    return true
}
