import Synchronization

/// Emptied flush buffers kept for reuse, up to `maxPooledBytes` of capacity. A partition file's buffer grows by
/// doubling as batches arrive, and every growth copies what it holds into fresh pages that the kernel must fault
/// in; for small batches that was a third of a worker's push CPU. A buffer written out comes back here, and the next
/// partition that buffers starts with one that is already full size and resident.
///
/// Pooled buffers are not counted in the memory budget, so they raise a worker's resident memory by at most
/// `maxPooledBytes`; a buffer a writer took from the pool is charged its whole capacity (see `PartitionFile`).
public final class FlushBufferPool: Sendable {
    /// The capacity of a pooled buffer: the store's flush buffer size.
    public let bufferCapacityBytes: Int
    /// Capacity kept at most.
    public let maxPooledBytes: Int
    private struct State {
        var buffers: [[UInt8]] = []
        var capacityBytes = 0
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - bufferCapacityBytes: buffers below this capacity, or above twice it, are not kept.
    ///   - maxPooledBytes: 0 keeps none.
    public init(bufferCapacityBytes: Int, maxPooledBytes: Int) {
        self.bufferCapacityBytes = max(bufferCapacityBytes, 1)
        self.maxPooledBytes = max(maxPooledBytes, 0)
    }

    /// An empty buffer of at least `bufferCapacityBytes`, or nil when none is pooled.
    func take() -> [UInt8]? {
        state.withLock { s in
            guard let buffer = s.buffers.popLast() else { return nil }
            s.capacityBytes -= buffer.capacity
            return buffer
        }
    }

    /// Empties `buffer` (leaving an array with no storage) and keeps its storage when it has a pooled
    /// buffer's capacity and the pool has room.
    func give(_ buffer: inout [UInt8]) {
        var storage = buffer
        buffer = []
        let capacity = storage.capacity
        guard capacity >= bufferCapacityBytes && capacity <= 2 * bufferCapacityBytes else { return }
        storage.removeAll(keepingCapacity: true)
        state.withLock { s in
            guard s.capacityBytes + capacity <= maxPooledBytes else { return }
            s.capacityBytes += capacity
            s.buffers.append(storage)
        }
    }

    /// Buffers pooled now.
    public var count: Int { state.withLock { $0.buffers.count } }

    /// Capacity pooled now.
    public var pooledBytes: Int { state.withLock { $0.capacityBytes } }
}
