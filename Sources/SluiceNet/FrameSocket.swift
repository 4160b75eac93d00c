import SluiceCore
import SluiceSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A frame header that failed to decode (too large, unknown flags), with the fields an error reply needs.
public struct InvalidFrameHeader: Error, Sendable {
    /// Why the header was refused; `status` is what the peer is told.
    public var error: ProtocolError
    /// The header's raw type field.
    public var type: UInt16
    /// The header's request id, so the error reply can name the request.
    public var requestId: UInt64
}

/// A connected socket speaking frames. One thread reads (`readHeader`/`readBody`/`readFrame`); any number of
/// threads write, serialized by a lock so frames never interleave. A failed or timed-out write leaves a
/// partial frame on the wire, so it shuts the socket down: the reader then sees the end and cleans up.
///
/// Lifetime: `shutdown()` may be called from any thread at any time; `close()` releases the descriptor and is
/// meant for the reading thread once it has stopped reading. After `close()` writes throw.
public final class FrameSocket: Sendable {
    private enum State { case open, shutDown, closed }

    /// The descriptor; valid until `close()`.
    let fd: Int32
    /// "ip:port" of the peer.
    public let peerAddress: String
    private let state = Mutex(State.open)
    /// Serializes writers; `close()` takes it too, so the descriptor cannot close under a writer.
    private let writeLock = Mutex(())

    /// The system calls every read, write and sendfile goes through (a fault-injecting layer in tests).
    let system: any SystemCalls

    /// Wraps a connected descriptor, which this object now owns.
    init(fd: Int32, peerAddress: String, system: any SystemCalls) {
        self.fd = fd
        self.peerAddress = peerAddress
        self.system = system
    }

    /// True until the socket is shut down or closed.
    public var isOpen: Bool { state.withLock { $0 == .open } }

    // MARK: reading (one thread)

    /// Reads the next header. Returns nil on a clean end of stream before its first byte; throws `NetError` on
    /// an end inside the header or an I/O error, and `InvalidFrameHeader` when the header is refused
    /// (`bodyLength` above `maxBodyBytes` is refused before anything is allocated).
    func readHeader(maxBodyBytes: Int, onTimeout: () throws -> Void = {}) throws -> FrameHeader? {
        var raw = [UInt8](repeating: 0, count: FrameHeader.byteCount)
        let n = try raw.withUnsafeMutableBytes { buffer throws in
            try system.readExactly(fd, into: buffer, onTimeout: onTimeout)
        }
        if n == 0 { return nil }
        guard n == FrameHeader.byteCount else {
            throw NetError.connectionClosed("read", "connection closed inside a frame header (\(n) of 16 bytes)")
        }
        do {
            return try FrameHeader.decode(raw[...], maxBodyBytes: maxBodyBytes)
        } catch {
            var reader = WireReader(raw)
            _ = try? reader.readU32()
            let type = (try? reader.readU16()) ?? 0
            _ = try? reader.readU16()
            let requestId = (try? reader.readU64()) ?? 0
            throw InvalidFrameHeader(error: error, type: type, requestId: requestId)
        }
    }

    /// Reads a body of exactly `count` bytes; an end of stream before that throws. A large body is read into an
    /// array from `pool` when it has one.
    func readBody(count: Int, pool: ReceiveBufferPool? = nil, onTimeout: () throws -> Void = {}) throws -> [UInt8] {
        guard count > 0 else { return [] }
        if var body = pool?.take(count: count) {
            let n = try body.withUnsafeMutableBytes { raw in
                try system.readExactly(fd, into: raw, onTimeout: onTimeout)
            }
            guard n == count else {
                throw NetError.connectionClosed(
                    "read", "connection closed inside a frame body (\(n) of \(count) bytes)")
            }
            return body
        }
        var failure: (any Error)?
        // A body that may go back to the pool gets room to spare, so a slightly longer one can reuse it later.
        let capacity = pool?.allocationBytes(for: count) ?? count
        let body = [UInt8](unsafeUninitializedCapacity: capacity) { whole, initialized in
            let buffer = UnsafeMutableBufferPointer(rebasing: whole[..<count])
            do {
                let n = try system.readExactly(fd, into: UnsafeMutableRawBufferPointer(buffer), onTimeout: onTimeout)
                if n < count {
                    failure = NetError.connectionClosed(
                        "read", "connection closed inside a frame body (\(n) of \(count) bytes)")
                    buffer.initialize(repeating: 0)
                }
            } catch {
                failure = error
                buffer.initialize(repeating: 0)
            }
            initialized = count
        }
        if let failure { throw failure }
        return body
    }

    /// Reads one whole frame; nil on a clean end of stream at a frame boundary. A large body is read into an
    /// array from `pool` when it has one.
    public func readFrame(maxBodyBytes: Int, pool: ReceiveBufferPool? = nil) throws -> Frame? {
        guard let header = try readHeader(maxBodyBytes: maxBodyBytes) else { return nil }
        let body = try readBody(count: Int(header.bodyLength), pool: pool)
        return Frame(type: header.type, flags: header.flags, requestId: header.requestId, body: body)
    }

    // MARK: writing (any thread)

    /// Writes one frame (header and body in one `writev`). Throws `NetError`.
    public func write(_ frame: Frame) throws {
        guard frame.body.count <= Int(UInt32.max) else {
            throw NetError(
                code: EMSGSIZE, call: "write", message: "frame body of \(frame.body.count) bytes is too large")
        }
        let header = frame.header.encoded
        try locked {
            try header.withUnsafeBytes { h throws in
                try frame.body.withUnsafeBytes { b throws in try system.writeAll(fd, [h, b]) }
            }
        }
    }

    /// Writes one frame whose body is `bodyParts` in order, each part straight from its own storage (one write
    /// per part; callers pack small pieces together), so large payloads are not first copied into one body.
    /// Throws `NetError`.
    public func write(type: UInt16, flags: FrameFlags = [], requestId: UInt64, bodyParts: [ArraySlice<UInt8>]) throws {
        let total = bodyParts.reduce(0) { $0 + $1.count }
        guard total <= Int(UInt32.max) else {
            throw NetError(code: EMSGSIZE, call: "write", message: "frame body of \(total) bytes is too large")
        }
        let header = FrameHeader(bodyLength: UInt32(total), type: type, flags: flags, requestId: requestId).encoded
        try locked {
            let first = bodyParts.first ?? []
            try header.withUnsafeBytes { h throws in
                try first.withUnsafeBytes { b throws in try system.writeAll(fd, [h, b]) }
            }
            for part in bodyParts.dropFirst() {
                try part.withUnsafeBytes { b throws in try system.writeAll(fd, [b]) }
            }
        }
    }

    /// Writes a frame whose body is `prefix` followed by `length` bytes of `fileFd` from `offset`, sent with
    /// `sendfile` (zero-copy). The header's bodyLength is `prefix.count + length`. Throws `NetError`.
    public func writeWithFile(
        type: UInt16, flags: FrameFlags, requestId: UInt64, prefix: [UInt8],
        fileFd: Int32, offset: Int64, length: Int
    ) throws {
        let total = prefix.count + length
        guard length >= 0, offset >= 0, total <= Int(UInt32.max) else {
            throw NetError(
                code: EINVAL, call: "sendfile", message: "bad file range: offset \(offset), length \(length)")
        }
        let header = FrameHeader(bodyLength: UInt32(total), type: type, flags: flags, requestId: requestId).encoded
        try locked {
            try header.withUnsafeBytes { h throws in
                try prefix.withUnsafeBytes { p throws in try system.writeAll(fd, [h, p]) }
            }
            try system.sendfileAll(socket: fd, file: fileFd, offset: offset, count: length)
        }
    }

    private func locked(_ body: () throws -> Void) throws {
        try writeLock.withLock { _ throws in
            guard isOpen else { throw NetError.connectionClosed("write") }
            do {
                try body()
            } catch {
                shutdown()
                throw error
            }
        }
    }

    // MARK: lifetime

    /// Shuts both directions down: a blocked reader wakes with end of stream, writers fail. Idempotent.
    public func shutdown() {
        state.withLock { s in
            guard s == .open else { return }
            system.shutdown(fd: fd, how: Int32(SHUT_RDWR))
            s = .shutDown
        }
    }

    /// Shuts down, waits for a writer in progress, then closes the descriptor exactly once.
    func close() {
        shutdown()
        writeLock.withLock { _ in
            state.withLock { s in
                guard s != .closed else { return }
                system.close(fd: fd)
                s = .closed
            }
        }
    }

    deinit {
        if state.withLock({ $0 }) != .closed { system.close(fd: fd) }
    }
}
