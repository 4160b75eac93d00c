import CSluiceShim
import SluiceCore
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Opening, binding, accepting and connecting IPv4 TCP sockets.
public enum Sockets {
    /// Resolves `host` ("127.0.0.1", "0.0.0.0" or a name) to an IPv4 address with `getaddrinfo`.
    static func resolve(host: String, port: Int, passive: Bool) throws -> sockaddr_in {
        guard (0...65535).contains(port) else {
            throw NetError(code: EINVAL, call: "getaddrinfo", message: "port \(port) out of range")
        }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE : 0
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            let text = rc == 0 ? "no address" : String(cString: gai_strerror(rc))
            throw NetError(code: EHOSTUNREACH, call: "getaddrinfo", message: "cannot resolve \(host): \(text)")
        }
        defer { freeaddrinfo(list) }
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let entry = node {
            if entry.pointee.ai_family == AF_INET, let address = entry.pointee.ai_addr {
                return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
            }
            node = entry.pointee.ai_next
        }
        throw NetError(code: EHOSTUNREACH, call: "getaddrinfo", message: "no IPv4 address for \(host)")
    }

    /// A new blocking IPv4 stream socket with close-on-exec.
    static func makeSocket() throws -> Int32 {
        try NetError.call("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
    }

    /// Binds and listens on `host:port` (port 0: the kernel picks). Returns the fd and the bound port.
    static func listen(host: String, port: Int, backlog: Int) throws -> (fd: Int32, port: Int) {
        var address = try resolve(host: host, port: port, passive: true)
        let fd = try makeSocket()
        do {
            var one: Int32 = 1
            try NetError.call("setsockopt(SO_REUSEADDR)") {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            try NetError.call("bind") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            try NetError.call("listen") { Glibc.listen(fd, Int32(backlog)) }
            let bound = try localAddress(fd)
            return (fd, Int(UInt16(bigEndian: bound.sin_port)))
        } catch {
            _ = close(fd)
            throw error
        }
    }

    /// Accepts one connection (blocking). Returns nil when the listening socket was shut down or closed.
    static func accept(_ listenFd: Int32) throws -> Int32? {
        while true {
            let fd = sluice_accept_cloexec(listenFd)
            if fd >= 0 { return fd }
            let code = errno
            switch code {
            case EINTR, ECONNABORTED, EPROTO: continue
            case EINVAL, EBADF: return nil
            default: throw NetError.fromErrno("accept", code)
            }
        }
    }

    /// Connects to `host:port`, waiting at most `timeoutMs`; the returned socket is blocking again.
    public static func connect(host: String, port: Int, timeoutMs: Int) throws -> Int32 {
        var address = try resolve(host: host, port: port, passive: false)
        let fd = try makeSocket()
        do {
            let flags = try NetError.call("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) }
            try NetError.call("fcntl(F_SETFL)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if rc != 0 {
                let code = errno
                guard code == EINPROGRESS || code == EINTR else { throw NetError.fromErrno("connect", code) }
                try waitWritable(fd, timeoutMs: timeoutMs, what: "\(host):\(port)")
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                try NetError.call("getsockopt(SO_ERROR)") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) }
                if soError != 0 {
                    var error = NetError.fromErrno("connect", soError)
                    error.message += " (\(host):\(port))"
                    throw error
                }
            }
            try NetError.call("fcntl(F_SETFL)") { fcntl(fd, F_SETFL, flags) }
            return fd
        } catch {
            _ = close(fd)
            throw error
        }
    }

    private static func waitWritable(_ fd: Int32, timeoutMs: Int, what: String) throws {
        let deadlineMs = Monotonic.nowMs() + UInt64(max(timeoutMs, 0))
        while true {
            let now = Monotonic.nowMs()
            guard now < deadlineMs else {
                throw NetError.timedOut("connect", "no connection to \(what) within \(timeoutMs) ms")
            }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let n = poll(&entry, 1, Int32(min(deadlineMs - now, UInt64(Int32.max))))
            if n > 0 { return }
            if n < 0 && errno != EINTR { throw NetError.fromErrno("poll") }
        }
    }

    /// The local address a socket is bound to.
    static func localAddress(_ fd: Int32) throws -> sockaddr_in {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try NetError.call("getsockname") {
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        return address
    }

    /// "a.b.c.d:port" of the peer, or "unknown" when it cannot be read.
    static func peerDescription(_ fd: Int32) -> String {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard rc == 0 else { return "unknown" }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        var ip = address.sin_addr
        guard inet_ntop(AF_INET, &ip, &text, socklen_t(text.count)) != nil else { return "unknown" }
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(host):\(UInt16(bigEndian: address.sin_port))"
    }

    /// Applies the per-connection options: TCP_NODELAY, send time-out, buffer sizes. Failures are ignored
    /// (they only cost performance), except the send time-out, which guards writers against stuck peers.
    static func configure(_ fd: Int32, sendTimeoutMs: Int, socketBufferBytes: Int) throws {
        _ = sluice_set_nodelay(fd)
        if socketBufferBytes > 0 { _ = sluice_set_socket_buffers(fd, Int32(clamping: socketBufferBytes)) }
        if sendTimeoutMs > 0 {
            try NetError.call("setsockopt(SO_SNDTIMEO)") {
                sluice_set_send_timeout_ms(fd, UInt32(clamping: sendTimeoutMs))
            }
        }
    }
}
