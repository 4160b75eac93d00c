import CSluiceShim
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

/// The listening side of an `HTTPServer`: a non-blocking IPv4 socket, non-blocking accepts, peer names.
enum HTTPSockets {
    /// Binds and listens on `host:port` (port 0: the kernel picks); the socket is non-blocking and close-on-exec.
    /// Returns the descriptor and the bound port.
    static func listen(host: String, port: Int, backlog: Int) throws(SystemCallError) -> (fd: Int32, port: Int) {
        guard (0...65535).contains(port) else {
            throw SystemCallError(errno: EINVAL, call: "bind", cause: "port \(port)")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw SystemCallError(errno: EINVAL, call: "inet_pton", cause: "not an IPv4 address: \(host)")
        }
        let fd = try Posix.retrying("socket") {
            socket(
                AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        }
        do {
            var one: Int32 = 1
            try Posix.retrying("setsockopt(SO_REUSEADDR)") {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            let length = socklen_t(MemoryLayout<sockaddr_in>.size)
            try Posix.retrying("bind") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
                }
            }
            try Posix.retrying("listen") { Glibc.listen(fd, Int32(clamping: backlog)) }
            var bound = sockaddr_in()
            var boundLength = length
            try Posix.retrying("getsockname") {
                withUnsafeMutablePointer(to: &bound) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &boundLength) }
                }
            }
            return (fd, Int(UInt16(bigEndian: bound.sin_port)))
        } catch {
            _ = close(fd)
            throw error
        }
    }

    /// What one non-blocking accept gave.
    enum Accepted {
        /// A connected socket, already non-blocking, with TCP_NODELAY.
        case connection(Int32)
        /// Nothing is waiting (EAGAIN), or the listener is gone.
        case none
        /// Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): back off.
        case exhausted(Int32)
    }

    /// Accepts one connection without blocking.
    static func accept(_ listenFd: Int32) -> Accepted {
        while true {
            let fd = sluice_accept_cloexec(listenFd)
            if fd >= 0 {
                let flags = fcntl(fd, F_GETFL)
                guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
                    _ = close(fd)
                    continue
                }
                _ = sluice_set_nodelay(fd)
                return .connection(fd)
            }
            let code = errno
            switch code {
            case EINTR, ECONNABORTED, EPROTO: continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .exhausted(code)
            default: return .none
            }
        }
    }

    /// "a.b.c.d:port" of the peer, or "unknown".
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
}
