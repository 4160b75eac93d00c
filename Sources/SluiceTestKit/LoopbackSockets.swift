#if canImport(Glibc)
    import Glibc
#endif

/// Blocking TCP sockets on 127.0.0.1 (close-on-exec); the caller owns and closes every descriptor returned.
public enum LoopbackSockets {
    /// A listening socket on a kernel-chosen (random) port of 127.0.0.1, with a backlog of `backlog`.
    /// - Throws: `TestKitError` when `socket`, `bind`, `listen` or `getsockname` fails.
    public static func listen(backlog: Int32 = 128) throws -> (fd: Int32, port: Int) {
        let fd = try newSocket()
        var address = loopback(port: 0)
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
            let error = TestKitError.system("bind/listen 127.0.0.1:0")
            close(fd)
            throw error
        }
        var actual = sockaddr_in()
        var actualLength = length
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        guard named == 0 else {
            let error = TestKitError.system("getsockname")
            close(fd)
            throw error
        }
        return (fd, Int(UInt16(bigEndian: actual.sin_port)))
    }

    /// A socket connected to `127.0.0.1:port`.
    /// - Throws: `TestKitError` when `socket` or `connect` fails.
    public static func connect(port: Int) throws -> Int32 {
        let fd = try newSocket()
        var address = loopback(port: UInt16(truncatingIfNeeded: port))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let error = TestKitError.system("connect 127.0.0.1:\(port)")
            close(fd)
            throw error
        }
        return fd
    }

    /// A socket bound to `127.0.0.sourceHost` and connected to `127.0.0.1:port`: to a server, a peer with another
    /// IP address than the usual 127.0.0.1 (Linux routes all of 127/8 to the loopback interface).
    /// - Throws: `TestKitError` when `socket`, `bind` or `connect` fails.
    public static func connect(port: Int, sourceHost: UInt8) throws -> Int32 {
        let fd = try newSocket()
        var source = loopback(port: 0)
        source.sin_addr.s_addr = (UInt32(0x7F00_0000) | UInt32(sourceHost)).bigEndian
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &source) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        var address = loopback(port: UInt16(truncatingIfNeeded: port))
        let connected =
            bound == 0
            && withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
            } == 0
        guard connected else {
            let error = TestKitError.system("connect 127.0.0.1:\(port) from 127.0.0.\(sourceHost)")
            close(fd)
            throw error
        }
        return fd
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    private static func newSocket() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestKitError.system("socket") }
        return fd
    }
}
