import CSluiceShim
import SluiceCore
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

/// The listening side of an `HTTPServer`: a non-blocking IPv4 or IPv6 socket, non-blocking accepts, peer names.
enum HTTPSockets {
    /// Binds and listens on `host:port` (port 0: the kernel picks; `::` is dual-stack); the socket is non-blocking
    /// and close-on-exec. Returns the descriptor and the bound port.
    static func listen(host: String, port: Int, backlog: Int) throws(SystemCallError) -> (fd: Int32, port: Int) {
        try ListeningSocket.open(host: host, port: port, backlog: backlog, nonBlocking: true)
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

    /// "a.b.c.d:port" or "[v6]:port" of the peer, or "unknown".
    static func peerDescription(_ fd: Int32) -> String {
        guard let peer = SocketAddress.peer(of: fd) else { return "unknown" }
        return EndpointText.format(host: peer.host, port: peer.port)
    }
}
