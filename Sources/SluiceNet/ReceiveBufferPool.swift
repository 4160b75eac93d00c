import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Large response bodies handed back for reuse by one connection's reader. A fetched chunk is megabytes; reading each
/// into a new array made the kernel fault in and zero every page of it (about a fifth of a reader's CPU). The
/// consumer of a body returns it once it holds no slice of it; the reader reads the next large body into it.
/// A returned body that is still shared elsewhere is copied on write by the next read, never overwritten.
/// A server shares one pool among its connections' readers (request bodies, returned when the request is answered).
public final class ReceiveBufferPool: Sendable {
    /// Bodies smaller than this are neither taken from nor kept in the pool.
    public let minimumBytes: Int
    /// Bodies kept at most.
    public let maxCount: Int
    /// Capacity kept at most, in bytes.
    public let maxPooledBytes: Int
    private struct State {
        var buffers: [[UInt8]] = []
        var capacityBytes = 0
    }
    private let state = Mutex(State())
    private let reused = Atomic<Int>(0)

    /// - Parameters:
    ///   - minimumBytes: smaller bodies are neither taken from nor kept in the pool.
    ///   - maxCount: bodies kept at most.
    ///   - maxPooledBytes: capacity kept at most (the bodies' allocations, not their lengths).
    public init(minimumBytes: Int, maxCount: Int, maxPooledBytes: Int = .max) {
        self.minimumBytes = max(minimumBytes, 1)
        self.maxCount = max(maxCount, 0)
        self.maxPooledBytes = max(maxPooledBytes, 0)
    }

    /// Keeps `body`'s storage (leaving `body` empty) when it is large and the pool has room.
    public func give(_ body: inout [UInt8]) {
        let storage = body
        body = []
        guard storage.count >= minimumBytes else { return }
        let capacity = storage.capacity
        state.withLock { s in
            guard s.buffers.count < maxCount && s.capacityBytes + capacity <= maxPooledBytes else { return }
            s.capacityBytes += capacity
            s.buffers.append(storage)
        }
    }

    /// Bodies of different lengths share a pool (a worker's pushes from clients and the slightly shorter ones
    /// forwarded by other primaries), so a body is allocated with room to spare: its capacity rounded up to this.
    public static let capacityStepBytes = 64 << 10

    /// The capacity to allocate for a body of `count` bytes that may come back to this pool.
    public func allocationBytes(for count: Int) -> Int {
        guard count >= minimumBytes else { return count }
        let step = Self.capacityStepBytes
        return (count + step - 1) / step * step
    }

    /// An array of exactly `count` bytes whose contents are to be overwritten: a kept one with the capacity for it
    /// (resized in place; bytes beyond its old length are zeroed), else a kept one copied into a new allocation, or
    /// nil when none is kept or `count` is below `minimumBytes`.
    func take(count: Int) -> [UInt8]? {
        guard count >= minimumBytes,
            var buffer = state.withLock({ s -> [UInt8]? in
                // The most recently kept body with room, else the most recent one.
                let index = s.buffers.lastIndex { $0.capacity >= count } ?? s.buffers.indices.last
                guard let index else { return nil }
                let buffer = s.buffers.remove(at: index)
                s.capacityBytes -= buffer.capacity
                return buffer
            })
        else { return nil }
        reused.add(1, ordering: .relaxed)
        if buffer.count > count {
            buffer.removeLast(buffer.count - count)
        } else if buffer.count < count && buffer.capacity >= count {
            // Within capacity: no new pages. Appended from a zeroed block so it is a memcpy, not a byte loop.
            while buffer.count < count {
                buffer.append(contentsOf: Self.zeros[..<min(Self.zeros.count, count - buffer.count)])
            }
        } else if buffer.count < count {
            // memcpy and memset: an element-wise append runs byte by byte in debug builds (91 s for 384 MiB).
            let kept = buffer
            buffer = [UInt8](unsafeUninitializedCapacity: allocationBytes(for: count)) { target, initialized in
                kept.withUnsafeBytes { source in
                    if let from = source.baseAddress, let to = target.baseAddress { memcpy(to, from, source.count) }
                }
                if let tail = target.baseAddress?.advanced(by: kept.count) { memset(tail, 0, count - kept.count) }
                initialized = count
            }
        }
        return buffer
    }

    private static let zeros = [UInt8](repeating: 0, count: capacityStepBytes)

    /// Bodies read into a kept array so far.
    public var reusedCount: Int { reused.load(ordering: .relaxed) }

    /// Bodies kept now.
    public var count: Int { state.withLock { $0.buffers.count } }

    /// Capacity kept now, in bytes.
    public var pooledBytes: Int { state.withLock { $0.capacityBytes } }
}
