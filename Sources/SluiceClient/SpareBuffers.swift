import Synchronization

/// A small bounded stack of emptied partition buffers. The payload of an uncompressed batch is the partition
/// buffer itself; once a worker acknowledged it, its storage comes back here, so that a busy partition's next batch
/// is filled without growing a new array (regrowth copies and fresh pages cost ~10% of a push's client CPU).
final class SpareBuffers: Sendable {
    /// Buffers with less capacity than this are not kept.
    let minimumCapacityBytes: Int
    /// At most this many buffers are kept.
    let maxCount: Int
    private let spares = Mutex<[[UInt8]]>([])
    private let reused = Atomic<Int>(0)

    init(minimumCapacityBytes: Int, maxCount: Int) {
        self.minimumCapacityBytes = minimumCapacityBytes
        self.maxCount = maxCount
    }

    /// Keeps the storage of an acknowledged payload when it covers a whole buffer of the right capacity.
    /// The storage may still be shared for a moment (the request being answered holds it); the taker's first
    /// write then copies on write, which is correct, only slower.
    func give(_ payload: ArraySlice<UInt8>) {
        guard payload.startIndex == 0 else { return }
        let buffer = Array(payload)  // a slice of a whole array shares its storage
        guard buffer.capacity >= minimumCapacityBytes else { return }
        spares.withLock { list in
            if list.count < maxCount { list.append(buffer) }
        }
    }

    /// An empty array with at least `minimumCapacityBytes` of capacity: a kept one when there is one.
    func take() -> [UInt8] {
        // Oldest first: its request's last references are the most likely to be gone.
        var buffer = spares.withLock { $0.isEmpty ? [] : $0.removeFirst() }
        if buffer.capacity > 0 { reused.add(1, ordering: .relaxed) }
        buffer.removeAll(keepingCapacity: true)
        if buffer.capacity < minimumCapacityBytes { buffer.reserveCapacity(minimumCapacityBytes) }
        return buffer
    }

    /// Buffers handed out that were kept ones.
    var reusedCount: Int { reused.load(ordering: .relaxed) }

    /// Buffers kept now.
    var count: Int { spares.withLock { $0.count } }
}
