import CSluiceShim
import Glibc
import SluiceTestKit

/// Blocking-socket helpers for loopback benchmarks. Every function throws `BenchError` instead of crashing.
enum Sockets {
    /// Seconds a blocked read or write may wait before the run fails, so that no run can hang.
    static let stallTimeoutMs: UInt32 = 30_000

    /// Opens `count` connected TCP pairs on 127.0.0.1 through a listener on a kernel-chosen (random) port.
    /// Returns (client, server) descriptors; the caller owns and closes them.
    static func connectedPairs(count: Int) throws -> [(client: Int32, server: Int32)] {
        let listener = try LoopbackSockets.listen()
        defer { close(listener.fd) }
        var pairs: [(client: Int32, server: Int32)] = []
        do {
            for _ in 0..<count {
                let client = try LoopbackSockets.connect(port: listener.port)
                let server = sluice_accept_cloexec(listener.fd)
                if server < 0 {
                    close(client)
                    throw BenchError.system("accept")
                }
                pairs.append((client, server))
                for fd in [client, server] { try configure(fd) }
            }
        } catch {
            for pair in pairs {
                close(pair.client)
                close(pair.server)
            }
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
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw BenchError("read: stalled for \(Sockets.stallTimeoutMs) ms")
                }
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
