import CSluiceShim
import Glibc

/// Blocking-socket helpers for loopback benchmarks. Every function throws `BenchError` instead of crashing.
enum Sockets {
    /// Seconds a blocked read or write may wait before the run fails, so that no run can hang.
    static let stallTimeoutMs: UInt32 = 30_000

    /// Opens `count` connected TCP pairs on 127.0.0.1 through a listener on a kernel-chosen (random) port.
    /// Returns (client, server) descriptors; the caller owns and closes them.
    static func connectedPairs(count: Int) throws -> [(client: Int32, server: Int32)] {
        let listener = try listen()
        defer { close(listener.fd) }
        var pairs: [(client: Int32, server: Int32)] = []
        do {
            for _ in 0..<count {
                let client = try connect(port: listener.port)
                let server = sluice_accept_cloexec(listener.fd)
                if server < 0 {
                    close(client)
                    throw BenchError.system("accept")
                }
                pairs.append((client, server))
                for fd in [client, server] { try configure(fd) }
            }
        } catch {
            for pair in pairs { close(pair.client); close(pair.server) }
            throw error
        }
        return pairs
    }

    /// TCP_NODELAY (as Sluice sets it) and stall timeouts; socket buffers stay at the kernel's defaults.
    private static func configure(_ fd: Int32) throws {
        guard sluice_set_nodelay(fd) == 0 else { throw BenchError.system("setsockopt(TCP_NODELAY)") }
        guard sluice_set_receive_timeout_ms(fd, stallTimeoutMs) == 0,
              sluice_set_send_timeout_ms(fd, stallTimeoutMs) == 0
        else { throw BenchError.system("setsockopt(SO_RCVTIMEO/SO_SNDTIMEO)") }
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
        guard fd >= 0 else { throw BenchError.system("socket") }
        return fd
    }

    private static func listen() throws -> (fd: Int32, port: UInt16) {
        let fd = try newSocket()
        var address = loopback(port: 0)
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else {
            let error = BenchError.system("bind/listen 127.0.0.1:0")
            close(fd)
            throw error
        }
        var actual = sockaddr_in()
        var actualLength = length
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        guard named == 0 else {
            let error = BenchError.system("getsockname")
            close(fd)
            throw error
        }
        return (fd, UInt16(bigEndian: actual.sin_port))
    }

    private static func connect(port: UInt16) throws -> Int32 {
        let fd = try newSocket()
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let error = BenchError.system("connect 127.0.0.1:\(port)")
            close(fd)
            throw error
        }
        return fd
    }
}

/// Loops that move a whole buffer through a blocking descriptor.
enum BlockingIO {
    /// Writes all `count` bytes at `base`.
    static func writeAll(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) throws {
        var done = 0
        while done < count {
            let written = write(fd, base + done, count - done)
            if written < 0 {
                if errno == EINTR { continue }
                throw BenchError.system("write")
            }
            done += written
        }
    }

    /// Reads exactly `count` bytes into `base`. Returns false on end of stream before the first byte;
    /// throws on end of stream in the middle, on errors and on stall timeouts.
    static func readExactly(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int) throws -> Bool {
        var done = 0
        while done < count {
            let got = read(fd, base + done, count - done)
            if got < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw BenchError("read: stalled for \(Sockets.stallTimeoutMs) ms") }
                throw BenchError.system("read")
            }
            if got == 0 {
                if done == 0 { return false }
                throw BenchError("read: end of stream after \(done) of \(count) bytes")
            }
            done += got
        }
        return true
    }

    /// Writes all `count` bytes at `base` to the file at `offset` with pwrite.
    static func pwriteAll(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int, at offset: Int) throws {
        var done = 0
        while done < count {
            let written = pwrite(fd, base + done, count - done, off_t(offset + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw BenchError.system("pwrite")
            }
            done += written
        }
    }
}
