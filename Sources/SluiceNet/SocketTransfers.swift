import SluiceSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension NetError {
    /// The network error for a failed system call: same errno and call name.
    init(_ failure: SystemCallError) {
        self.init(
            code: failure.errno, call: failure.call,
            message: failure.cause.isEmpty ? String(cString: strerror(failure.errno)) : failure.cause)
    }

    /// Runs a socket set-up call through the one `EINTR` loop, throwing `NetError`.
    @discardableResult
    static func call<T: BinaryInteger>(_ name: String, _ body: () -> T) throws -> T {
        do {
            return try Posix.retrying(name, body)
        } catch {
            throw NetError(error)
        }
    }
}

/// Whole transfers on connected sockets, built from the single calls of `SystemCalls` so faults injected there
/// reach the frame protocol: short transfers and `EINTR` continue, time-outs become `NetError`s with `ETIMEDOUT`.
extension SystemCalls {
    /// Reads until `buffer` is full or the peer closes. Returns the bytes read: `buffer.count`, or fewer on EOF.
    /// With a receive time-out set on the socket, an expired read calls `onTimeout`, which throws to give up
    /// or returns to keep waiting.
    func readExactly(
        _ fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
        onTimeout: () throws -> Void
    ) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n: Int
            switch Result(catching: { () throws(SystemCallError) -> Int in
                try receive(fd: fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            }) {
            case .success(let count): n = count
            case .failure(let failure) where failure.errno == EINTR: continue
            case .failure(let failure) where failure.isWouldBlock:
                try onTimeout()
                continue
            case .failure(let failure): throw NetError(failure)
            }
            if n == 0 { return done }
            done += n
        }
        return done
    }

    /// Writes every byte of `parts` in order with `writev`, looping on short writes.
    /// A send time-out (SO_SNDTIMEO) surfaces as a `NetError` with `ETIMEDOUT`.
    public func writeAll(_ fd: Int32, _ parts: [UnsafeRawBufferPointer]) throws {
        var vectors = parts.filter { $0.count > 0 }.map {
            iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
        }
        var first = 0
        while first < vectors.count {
            let count = min(vectors.count - first, 64)
            let start = first
            let sent = vectors.withUnsafeBufferPointer { v in
                Result(catching: { () throws(SystemCallError) -> Int in
                    try send(fd: fd, vectors: UnsafeBufferPointer(rebasing: v[start..<(start + count)]))
                })
            }
            let n: Int
            switch sent {
            case .success(let written): n = written
            case .failure(let failure) where failure.errno == EINTR: continue
            case .failure(let failure) where failure.isWouldBlock:
                throw NetError.timedOut("write", "send timed out: the peer is not reading")
            case .failure(let failure): throw NetError(failure)
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
    func sendfileAll(socket fd: Int32, file fileFd: Int32, offset: Int64, count: Int) throws {
        var position = Int(offset)
        var left = count
        while left > 0 {
            let n: Int
            var next = position
            let chunk = min(left, 1 << 30)
            switch Result(catching: { () throws(SystemCallError) -> Int in
                try sendfile(socket: fd, file: fileFd, offsetBytes: &next, count: chunk)
            }) {
            case .success(let sent): n = sent
            case .failure(let failure) where failure.errno == EINTR: continue
            case .failure(let failure) where failure.isWouldBlock:
                throw NetError.timedOut("sendfile", "send timed out: the peer is not reading")
            case .failure(let failure) where failure.errno == EINVAL || failure.errno == ENOSYS:
                try copyWithPread(socket: fd, file: fileFd, offset: position, count: left)
                return
            case .failure(let failure): throw NetError(failure)
            }
            position = next
            if n == 0 { throw NetError(code: EIO, call: "sendfile", message: "file ended \(left) bytes early") }
            left -= n
        }
    }

    private func copyWithPread(socket fd: Int32, file fileFd: Int32, offset: Int, count: Int) throws {
        let chunkBytes = min(count, 256 * 1024)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        var position = offset
        var left = count
        while left > 0 {
            let want = min(left, chunkBytes)
            let n: Int
            switch Result(catching: { () throws(SystemCallError) -> Int in
                try pread(
                    fd: fileFd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]),
                    offsetBytes: position)
            }) {
            case .success(let read): n = read
            case .failure(let failure) where failure.errno == EINTR: continue
            case .failure(let failure): throw NetError(failure)
            }
            if n == 0 { throw NetError(code: EIO, call: "pread", message: "file ended \(left) bytes early") }
            try writeAll(fd, [UnsafeRawBufferPointer(rebasing: buffer[0..<n])])
            position += n
            left -= n
        }
    }
}
