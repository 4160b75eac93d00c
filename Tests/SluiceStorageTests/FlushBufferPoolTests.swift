import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceStorage

@Suite struct FlushBufferPoolTests {
    static let flushBufferBytes = 4096

    func makeStore(_ root: String, budget: MemoryBudget, poolBytes: Int) throws -> DirectoryPartitionStore {
        let config = StoreConfig(
            flushBufferBytes: Self.flushBufferBytes, chunkTargetBytes: 64 << 10,
            flushBufferPoolBytes: poolBytes)
        return try DirectoryPartitionStore(
            rootDirectory: root, config: config, memoryBudget: budget, logger: quietLogger)
    }

    /// Appends 1,000-byte batches (968 payload + 32 header) to `partition` until its file wrote out `writeOuts` buffers.
    func fill(_ store: DirectoryPartitionStore, _ k: PartitionFileKey, writeOuts: Int, firstSequence: UInt32 = 0) throws
        -> UInt32
    {
        var sequence = firstSequence
        while (store.existingWriter(k)?.fileBytes ?? 0) - (store.existingWriter(k)?.bufferedBytes ?? 0)
            < writeOuts * 4000
        {
            _ = try store.append(k, batch: makeBatch(mapIndex: 0, sequence: sequence, payloadBytes: 968))
            sequence += 1
        }
        return sequence
    }

    /// A store whose pool holds a buffer: partition 1 wrote two buffers out and was flushed. The first buffer grows;
    /// later ones are full size (pooled or reserved), and each one written out is kept.
    func storeWithPooledBuffer(_ root: String, budget: MemoryBudget) throws -> DirectoryPartitionStore {
        let store = try makeStore(root, budget: budget, poolBytes: 64 << 10)
        _ = try fill(store, try key(partition: 1), writeOuts: 2)
        try store.flush(try key(partition: 1))
        return store
    }

    @Test func aWrittenOutBufferIsReusedEmptyAndChargedWhole() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let store = try storeWithPooledBuffer(temp.path, budget: budget)
        #expect(store.flushBuffers.count == 1)
        #expect(budget.usedBytes == 0)

        let light = try key(partition: 2)
        let batch = makeBatch(mapIndex: 7, sequence: 0, payloadBytes: 100)
        _ = try store.append(light, batch: batch)
        let writer = try #require(store.existingWriter(light))
        #expect(store.flushBuffers.count == 0, "the new file took the pooled buffer")
        #expect(writer.bufferedBytes == batch.encodedByteCount)
        #expect(writer.chargedBytes >= Self.flushBufferBytes, "charged its whole capacity, not its 132 bytes")
        #expect(budget.usedBytes == writer.chargedBytes)

        try store.flush(light)
        #expect(writer.chargedBytes == 0)
        #expect(budget.usedBytes == 0)
        #expect(store.flushBuffers.count == 1, "written out, the buffer went back")
        // The reused buffer held none of the heavy file's bytes.
        #expect(try readAll(store, light).bytes == encoded(batch))
        try store.close()
        #expect(budget.usedBytes == 0)
    }

    @Test func thePoolKeepsNoMoreThanItsBound() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let poolBytes = 3 * Self.flushBufferBytes
        let store = try makeStore(temp.path, budget: budget, poolBytes: poolBytes)
        let keys = try (0..<6).map { try key(partition: UInt32($0)) }
        for k in keys { _ = try fill(store, k, writeOuts: 3) }
        for k in keys { try store.flush(k) }
        #expect(store.flushBuffers.count >= 1)
        #expect(store.flushBuffers.pooledBytes <= poolBytes)
        #expect(budget.usedBytes == 0)
        try store.close()
    }

    @Test func aPoolOfZeroKeepsNothingAndChargesBytes() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let store = try makeStore(temp.path, budget: budget, poolBytes: 0)
        let k = try key(partition: 1)
        let next = try fill(store, k, writeOuts: 3)
        #expect(store.flushBuffers.count == 0)
        _ = try store.append(try key(partition: 2), batch: makeBatch(mapIndex: 0, sequence: next, payloadBytes: 100))
        let buffered =
            try #require(store.existingWriter(k)).bufferedBytes
            + (try #require(store.existingWriter(try key(partition: 2))).bufferedBytes)
        #expect(budget.usedBytes == buffered)
        try store.close()
        #expect(budget.usedBytes == 0)
    }

    @Test func pressureReliefWritesOutTheLargestChargeFirst() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let store = try storeWithPooledBuffer(temp.path, budget: budget)
        #expect(store.flushBuffers.count == 1)
        // `pooled` buffers 132 bytes in a pooled buffer (charged ~4 KiB); `growing` buffers 3,000 bytes.
        let pooled = try key(partition: 2)
        _ = try store.append(pooled, batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 100))
        let growing = try key(partition: 3)
        for sequence in UInt32(0)..<3 {
            _ = try store.append(growing, batch: makeBatch(mapIndex: 0, sequence: sequence, payloadBytes: 968))
        }
        let pooledWriter = try #require(store.existingWriter(pooled))
        let growingWriter = try #require(store.existingWriter(growing))
        #expect(pooledWriter.chargedBytes > growingWriter.chargedBytes)
        #expect(pooledWriter.bufferedBytes < growingWriter.bufferedBytes)

        let written = store.relieveMemoryPressure(downToBytes: budget.usedBytes - 1)
        #expect(written == 132, "one write-out was enough, and it was the pooled buffer's")
        #expect(pooledWriter.bufferedBytes == 0)
        #expect(growingWriter.bufferedBytes == 3000)
        try store.close()
    }

    @Test func giveKeepsOnlyBuffersOfThePooledSize() {
        let pool = FlushBufferPool(bufferCapacityBytes: 1024, maxPooledBytes: 1 << 20)
        var small = [UInt8](repeating: 1, count: 100)
        pool.give(&small)
        #expect(small.isEmpty && small.capacity == 0, "the writer's array is always emptied")
        var huge = [UInt8]()
        huge.reserveCapacity(4096)
        pool.give(&huge)
        #expect(pool.count == 0)
        var right = [UInt8](repeating: 9, count: 1024)
        pool.give(&right)
        #expect(pool.count == 1)
        let taken = pool.take()
        #expect(taken?.isEmpty == true)
        #expect((taken?.capacity ?? 0) >= 1024)
        #expect(pool.take() == nil)
        #expect(pool.pooledBytes == 0)
    }
}
