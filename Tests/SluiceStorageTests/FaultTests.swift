import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceStorage

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct FaultTests {
    @Test func noSpaceFailsTheWriterAndKeepsWrittenData() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let fs = FaultInjectingSystem()
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path,
            config: StoreConfig(
                flushBufferBytes: 4096, chunkTargetBytes: 3000,
                healthProbeIntervalMs: 0),
            memoryBudget: budget, fileSystem: fs, logger: quietLogger)
        let k = try key()
        for sequence in UInt32(0)..<10 {
            _ = try store.append(k, batch: makeBatch(mapIndex: 0, sequence: sequence, payloadBytes: 968))
        }
        try store.flush(k)
        fs.fail(.pwrite, errno: ENOSPC)

        // The append whose write fails is refused with a hard split (the client moves the partition elsewhere).
        var refused = false
        var sequence: UInt32 = 10
        while !refused && sequence < 100 {
            refused =
                try store.append(k, batch: makeBatch(mapIndex: 1, sequence: sequence, payloadBytes: 968))
                == .refusedHardSplit
            sequence += 1
        }
        #expect(refused)
        let error = try #require(store.existingWriter(k)?.failure)
        #expect(error.code == .noSpace && error.errno == ENOSPC)
        #expect(error.path.hasSuffix("/app-1/1/0-0-p.data"))
        #expect(error.status == .hardSplit, "a full disk moves the client elsewhere")
        #expect(try store.append(k, batch: makeBatch(mapIndex: 2, sequence: 0, payloadBytes: 1)) == .refusedHardSplit)
        #expect(store.heldPartitions().first?.isFailed == true)
        #expect(store.volume.isHealthy == false, "the directory is marked unhealthy")

        // The ten batches written before the failure are readable; the reader is told the writer failed.
        let file = try store.openForRead(k, startMapIndex: 0, endMapIndex: .max)
        #expect(file.writerFailure?.code == .noSpace)
        var batches: [Batch] = []
        for chunk in file.chunks { batches += try parseBatches(try store.readChunk(file, chunk: chunk)) }
        #expect(batches.map(\.header.sequence) == Array(0..<10))
        #expect(budget.usedBytes > 0)

        // Space comes back: flush writes the buffered, acknowledged batches out, yet the writer stays failed.
        fs.heal(.pwrite)
        #expect(throws: StorageError.self) { try store.flush(k) }
        #expect(budget.usedBytes == 0)
        let again = try readAll(store, k)
        #expect(again.batches.count == Int(sequence - 1))
        #expect(try store.append(k, batch: makeBatch(mapIndex: 2, sequence: 0, payloadBytes: 1)) == .refusedHardSplit)

        // Other partitions are unaffected: with space back, the directory's probe succeeds and takes new files.
        #expect(
            try store.append(try key(partition: 5), batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 10))
                == .stored)
        // Closing reports the failed file after closing every file.
        #expect(storageError { try store.close() }?.code == .noSpace)
        #expect(budget.usedBytes == 0)
    }

    @Test func ioErrorOnDirectWriteAndFsyncFailTheWriter() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let fs = FaultInjectingSystem()
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path,
            config: StoreConfig(
                flushBufferBytes: 1024, fsyncOnFlush: true,
                healthProbeIntervalMs: 0),
            memoryBudget: budget, fileSystem: fs, logger: quietLogger)
        let big = try key(partition: 1)
        _ = try store.append(big, batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 5000))
        fs.fail(.pwrite, errno: EIO)
        #expect(
            try store.append(big, batch: makeBatch(mapIndex: 0, sequence: 1, payloadBytes: 5000)) == .refusedHardSplit)
        let failure = try #require(store.existingWriter(big)?.failure)
        #expect(failure.code == .ioError && failure.errno == EIO)
        fs.heal(.pwrite)
        #expect(try readAll(store, big).batches.map(\.header.sequence) == [0])

        let synced = try key(partition: 2)
        _ = try store.append(synced, batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 10))
        try store.flush(synced)
        fs.fail(.fsync, errno: EIO)
        _ = try store.append(synced, batch: makeBatch(mapIndex: 0, sequence: 1, payloadBytes: 10))
        #expect(throws: StorageError.self) { try store.flush(synced) }
        fs.heal(.fsync)
        // fdatasync reports a lost write-back once: the writer must not look durable afterwards.
        #expect(throws: StorageError.self) { try store.flush(synced) }
        #expect(throws: StorageError.self) { try store.close() }
        #expect(budget.usedBytes == 0)
    }

    @Test func shortWritesAndInterruptsStillProduceACorrectFile() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let fs = FaultInjectingSystem()
        fs.limitTransfer(.pwrite, toBytes: 777)
        fs.interrupt(every: 3)
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path,
            config: StoreConfig(flushBufferBytes: 8192, chunkTargetBytes: 20_000),
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), fileSystem: fs,
            logger: quietLogger)
        let k = try key()
        var expected: [UInt8] = []
        for sequence in UInt32(0)..<60 {
            let batch = makeBatch(
                mapIndex: sequence % 5, sequence: sequence, payloadBytes: [1, 900, 5000, 9000][Int(sequence) % 4])
            _ = try store.append(k, batch: batch)
            expected += encoded(batch)
        }
        let result = try readAll(store, k)
        #expect(result.bytes == expected)
        #expect(result.batches.count == 60)
        try store.close()
        #expect(try fileSize(temp.path + "/app-1/1/0-0-p.data") == expected.count)
    }
}
