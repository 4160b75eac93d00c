import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceStorage

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct BufferAndLimitTests {
    /// Without the buffer pool every buffered byte is charged as it arrives (FlushBufferPoolTests cover the pool).
    static let unpooled = StoreConfig(flushBufferBytes: 4096, chunkTargetBytes: 64 << 10, flushBufferPoolBytes: 0)

    private func unpooledStore(in temp: TempDirectory, budget: MemoryBudget) throws -> DirectoryPartitionStore {
        try DirectoryPartitionStore(
            rootDirectory: temp.path, config: Self.unpooled, memoryBudget: budget,
            logger: quietLogger)
    }

    /// A quiet file's buffer is written out once it has been idle long enough: a busy one's is not, an idle one's
    /// reaches the file (and gives its budget back) without a read, a full buffer or memory pressure.
    @Test func idleFilesAreWrittenOutAndBusyOnesAreNot() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let store = try unpooledStore(in: temp, budget: budget)
        let files = try (UInt32(1)...3).map { try key(partition: $0) }
        for file in files {
            _ = try store.append(file, batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 700))
        }
        func onDiskBytes(_ file: PartitionFileKey) throws -> Int {
            let path = try #require(store.existingWriter(file)).path
            var status = stat()
            try #require(stat(path, &status) == 0)
            return Int(status.st_size)
        }
        #expect(try files.allSatisfy { try onDiskBytes($0) == 0 }, "small batches wait in the buffer")
        #expect(store.flushIdleFiles(idleForMs: 3_600_000) == 0, "nothing has been idle for an hour")
        #expect(budget.usedBytes > 0)
        let written = store.flushIdleFiles(idleForMs: 0)
        #expect(written == files.count * makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 700).encodedByteCount)
        for file in files {
            #expect(try onDiskBytes(file) == (try #require(store.existingWriter(file)).fileBytes))
        }
        #expect(budget.usedBytes == 0, "written-out buffers give their budget back")
        #expect(store.flushIdleFiles(idleForMs: 0) == 0, "nothing is left to write")
        try store.close()
    }

    @Test func flushBufferIsBoundedAndBudgetReturnsToZero() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let config = Self.unpooled
        let store = try unpooledStore(in: temp, budget: budget)
        let a = try key(partition: 1)
        let b = try key(partition: 2)
        for sequence in UInt32(0)..<20 {
            _ = try store.append(a, batch: makeBatch(mapIndex: 0, sequence: sequence, payloadBytes: 968))
            _ = try store.append(b, batch: makeBatch(mapIndex: 0, sequence: sequence, payloadBytes: 500))
            let buffered =
                try #require(store.existingWriter(a)).bufferedBytes
                + (try #require(store.existingWriter(b)).bufferedBytes)
            #expect(try #require(store.existingWriter(a)).bufferedBytes <= config.flushBufferBytes)
            #expect(budget.usedBytes == buffered)
        }
        #expect(budget.usedBytes > 0)
        try store.flush(a)
        try store.flush(b)
        #expect(budget.usedBytes == 0)

        // A batch larger than the buffer is written straight through and never accounted.
        _ = try store.append(a, batch: makeBatch(mapIndex: 1, sequence: 0, payloadBytes: 10_000))
        #expect(budget.usedBytes == 0)
        #expect(budget.peakBytes <= 2 * config.flushBufferBytes)

        _ = try store.append(a, batch: makeBatch(mapIndex: 1, sequence: 1, payloadBytes: 100))
        _ = try store.append(b, batch: makeBatch(mapIndex: 1, sequence: 1, payloadBytes: 100))
        #expect(budget.usedBytes == 264)
        try store.deleteShuffle(applicationId: "app-1", shuffleId: 1)
        #expect(budget.usedBytes == 0)

        _ = try store.append(a, batch: makeBatch(mapIndex: 1, sequence: 2, payloadBytes: 100))
        #expect(budget.usedBytes == 132)
        try store.close()
        #expect(budget.usedBytes == 0)
    }

    @Test func batchesOfHalfTheBufferOrMoreAreWrittenOutAtOnceInOrder() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let config = Self.unpooled
        let store = try unpooledStore(in: temp, budget: budget)
        let k = try key(partition: 1)
        let small = makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 500)
        let half = makeBatch(mapIndex: 0, sequence: 1, payloadBytes: config.directWriteMinBytes - BatchHeader.byteCount)
        let belowHalf = makeBatch(
            mapIndex: 0, sequence: 2,
            payloadBytes: config.directWriteMinBytes - BatchHeader.byteCount - 1)
        let writer = { try #require(store.existingWriter(k)) }

        _ = try store.append(k, batch: small)
        #expect(try writer().bufferedBytes == small.encodedByteCount)
        _ = try store.append(k, batch: half)  // writes the buffered batch out first, then itself: no copy, no charge
        #expect(try writer().bufferedBytes == 0)
        #expect(budget.usedBytes == 0)
        #expect(budget.peakBytes == small.encodedByteCount)
        _ = try store.append(k, batch: belowHalf)
        #expect(try writer().bufferedBytes == belowHalf.encodedByteCount)

        let stored = try readAll(store, k)
        #expect(stored.bytes == encoded(small) + encoded(half) + encoded(belowHalf))
        try store.close()
    }

    @Test func softAndHardLimitsProduceOutcomes() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let config = StoreConfig(
            flushBufferBytes: 4096, chunkTargetBytes: 64 << 10, softLimitBytes: 3000,
            hardLimitBytes: 5000)
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path, config: config,
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), logger: quietLogger)
        let k = try key()
        var outcomes: [AppendOutcome] = []
        for sequence in UInt32(0)..<7 {
            outcomes.append(try store.append(k, batch: makeBatch(mapIndex: 0, sequence: sequence, payloadBytes: 968)))
        }
        #expect(
            outcomes == [
                .stored, .stored, .storedSoftSplit, .storedSoftSplit, .storedSoftSplit,
                .refusedHardSplit, .refusedHardSplit,
            ])
        #expect(store.heldPartitions().first?.fileBytes == 5000)
        #expect(try readAll(store, k).batches.count == 5)

        // An empty file takes one batch larger than its hard limit, so a split partition can always progress.
        let big = try key(partition: 1)
        #expect(
            try store.append(big, batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 6000)) == .storedSoftSplit)
        #expect(try store.append(big, batch: makeBatch(mapIndex: 0, sequence: 1, payloadBytes: 1)) == .refusedHardSplit)
        try store.close()
    }

    @Test func payloadLengthMustMatchHeader() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path, config: StoreConfig(),
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), logger: quietLogger)
        var batch = makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 10)
        batch.payload = batch.payload.dropLast()
        #expect(
            storageError {
                _ = try store.append(try key(), batch: batch)
            }?.code == .invalidBatch)
        // The failed batch did not fail the writer.
        #expect(try store.append(try key(), batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 10)) == .stored)
        try store.close()
    }
}
