import CSluiceShim
import SluiceCore
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Opening, binding, accepting and connecting TCP sockets over IPv4 and IPv6.
public enum Sockets {
    /// Resolves `host` (an IPv4 or IPv6 literal, or a name) with `getaddrinfo`, every address in its order.
    static func resolve(host: String, port: Int, passive: Bool) throws -> [SocketAddress] {
        do {
            return try SocketAddress.resolve(host: host, port: port, passive: passive)
        } catch {
            throw NetError(error)
        }
    }

    /// Binds and listens on `host:port` (port 0: the kernel picks; `::` is dual-stack). Returns the fd and the bound
    /// port.
    static func listen(host: String, port: Int, backlog: Int) throws -> (fd: Int32, port: Int) {
        do {
            return try ListeningSocket.open(host: host, port: port, backlog: backlog, nonBlocking: false)
        } catch {
            throw NetError(error)
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

    /// Connects to `host:port`, trying each address `host` resolves to in order until one answers, within
    /// `timeoutMs` in all (each attempt gets an equal share of what is left); the returned socket is blocking.
    /// Throws the last attempt's error.
    public static func connect(host: String, port: Int, timeoutMs: Int) throws -> Int32 {
        try connect(
            to: try resolve(host: host, port: port, passive: false), timeoutMs: timeoutMs,
            what: EndpointText.format(host: host, port: port))
    }

    /// Connects to the first of `addresses` that answers, in order, within `timeoutMs` in all; `what` names the
    /// endpoint in errors.
    static func connect(to addresses: [SocketAddress], timeoutMs: Int, what: String) throws -> Int32 {
        let deadlineMs = Monotonic.nowMs() + UInt64(max(timeoutMs, 0))
        var lastError: any Error = NetError.timedOut("connect", "no connection to \(what) within \(timeoutMs) ms")
        for (index, address) in addresses.enumerated() {
            let now = Monotonic.nowMs()
            guard now < deadlineMs else { break }
            let shareMs = Int((deadlineMs - now) / UInt64(addresses.count - index))
            do {
                return try connect(address, timeoutMs: max(shareMs, 1), what: what)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Connects to one address within `timeoutMs`; `what` names the endpoint in errors.
    private static func connect(_ address: SocketAddress, timeoutMs: Int, what: String) throws -> Int32 {
        let fd = try NetError.call("socket") {
            socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do {
            let flags = try NetError.call("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) }
            try NetError.call("fcntl(F_SETFL)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
            let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
            if rc != 0 {
                let code = errno
                guard code == EINPROGRESS || code == EINTR else {
                    var error = NetError.fromErrno("connect", code)
                    error.message += " (\(what))"
                    throw error
                }
                try waitWritable(fd, timeoutMs: timeoutMs, what: what)
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                try NetError.call("getsockopt(SO_ERROR)") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) }
                if soError != 0 {
                    var error = NetError.fromErrno("connect", soError)
                    error.message += " (\(what))"
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

    /// "a.b.c.d:port" or "[v6]:port" of the peer, or "unknown" when it cannot be read.
    static func peerDescription(_ fd: Int32) -> String {
        SocketAddress.peer(of: fd)?.endpointText ?? "unknown"
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

extension SocketAddress {
    /// `a.b.c.d:port` or `[v6]:port` (IPv4-mapped addresses in their IPv4 form), for logs and peer limits.
    public var endpointText: String { EndpointText.format(host: host, port: port) }
}
