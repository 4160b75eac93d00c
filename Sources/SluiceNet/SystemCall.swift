#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSluiceShim

/// Thin wrappers over POSIX calls: every one retries on `EINTR` and throws `NetError` on failure.
enum SystemCall {
    /// Runs `body` until it does not fail with `EINTR`; a negative result throws `NetError` named `name`.
    @discardableResult
    static func retrying<T: BinaryInteger>(_ name: String, _ body: () -> T) throws -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw NetError.fromErrno(name, code)
        }
    }

    /// Reads until `buffer` is full or the peer closes. Returns the bytes read: `buffer.count`, or fewer on EOF.
    /// With a receive time-out set on the socket, an expired read calls `onTimeout`, which throws to give up
    /// or returns to keep waiting.
    static func readExactly(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
                            onTimeout: () throws -> Void) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = read(fd, base + done, buffer.count - done)
            if n > 0 {
                done += n
            } else if n == 0 {
                return done
            } else {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK {
                    try onTimeout()
                    continue
                }
                throw NetError.fromErrno("read", code)
            }
        }
        return done
    }

    /// Writes every byte of `parts` in order with `writev`, looping on short writes.
    /// A send time-out (SO_SNDTIMEO) surfaces as a `NetError` with `ETIMEDOUT`.
    static func writeAll(_ fd: Int32, _ parts: [UnsafeRawBufferPointer]) throws {
        var vectors = parts.filter { $0.count > 0 }.map {
            iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
        }
        var first = 0
        while first < vectors.count {
            let count = Int32(min(vectors.count - first, 64))
            let n = vectors.withUnsafeMutableBufferPointer { v -> Int in
                guard let base = v.baseAddress else { return 0 }
                return writev(fd, base + first, count)
            }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK {
                    throw NetError.timedOut("write", "send timed out: the peer is not reading")
                }
                throw NetError.fromErrno("write", code)
            }
            var left = n
            while left > 0 && first < vectors.count {
                if left >= vectors[first].iov_len {
                    left -= vectors[first].iov_len
                    first += 1
                } else {
                    vectors[first].iov_base = vectors[first].iov_base.map { $0 + left }
                    vectors[first].iov_len -= left
                    left = 0
                }
            }
        }
    }

    /// Copies `count` bytes of `fileFd` from `offset` to the socket with `sendfile`, looping on short sends.
    /// Falls back to `pread` + `write` when the kernel refuses sendfile for this file (EINVAL/ENOSYS).
    /// Throws when the file ends before `count` bytes.
    static func sendfileAll(socket fd: Int32, file fileFd: Int32, offset: Int64, count: Int) throws {
        var position = off_t(offset)
        var left = count
        while left > 0 {
            let n = sluice_sendfile(fd, fileFd, &position, min(left, 1 << 30))
            if n > 0 {
                left -= n
                continue
            }
            if n == 0 { throw NetError(code: EIO, call: "sendfile", message: "file ended \(left) bytes early") }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                throw NetError.timedOut("sendfile", "send timed out: the peer is not reading")
            }
            if code == EINVAL || code == ENOSYS {
                try copyWithPread(socket: fd, file: fileFd, offset: Int64(position), count: left)
                return
            }
            throw NetError.fromErrno("sendfile", code)
        }
    }

    private static func copyWithPread(socket fd: Int32, file fileFd: Int32, offset: Int64, count: Int)
        throws {
        let chunkBytes = min(count, 256 * 1024)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        var position = offset
        var left = count
        while left > 0 {
            let want = min(left, chunkBytes)
            let n = try retrying("pread") { pread(fileFd, buffer.baseAddress, want, off_t(position)) }
            if n == 0 { throw NetError(code: EIO, call: "pread", message: "file ended \(left) bytes early") }
            try writeAll(fd, [UnsafeRawBufferPointer(rebasing: buffer[0..<n])])
            position += Int64(n)
            left -= n
        }
    }

    /// `shutdown(fd, SHUT_RDWR)`, ignoring errors (the peer may be gone already).
    static func shutdownBoth(_ fd: Int32) {
        _ = shutdown(fd, Int32(SHUT_RDWR))
    }
}
