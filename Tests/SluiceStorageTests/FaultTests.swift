#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceTestKit
import Testing
@testable import SluiceStorage

@Suite struct FaultTests {
    @Test func noSpaceFailsTheWriterAndKeepsWrittenData() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let fs = FaultyFileSystem()
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let store = try DirectoryPartitionStore(rootDirectory: temp.path,
                                                config: StoreConfig(flushBufferBytes: 4096, chunkTargetBytes: 3000),
                                                memoryBudget: budget, fileSystem: fs, logger: quietLogger)
        let k = try key()
        for sequence in UInt32(0)..<10 { _ = try store.append(k, batch: makeBatch(mapIndex: 0, sequence: sequence, payloadBytes: 968)) }
        try store.flush(k)
        fs.faults.withLock { $0.pwriteErrno = ENOSPC }

        var thrown: StorageError?
        var sequence: UInt32 = 10
        while thrown == nil && sequence < 100 {
            do {
                _ = try store.append(k, batch: makeBatch(mapIndex: 1, sequence: sequence, payloadBytes: 968))
            } catch {
                thrown = error
            }
            sequence += 1
        }
        let error = try #require(thrown)
        #expect(error.code == .noSpace && error.errno == ENOSPC)
        #expect(error.path.hasSuffix("/app-1/1/0-0-p.data"))
        #expect(error.status == .hardSplit, "a full disk moves the client elsewhere")
        #expect(throws: StorageError.self) { _ = try store.append(k, batch: makeBatch(mapIndex: 2, sequence: 0, payloadBytes: 1)) }
        #expect(store.heldPartitions().first?.isFailed == true)

        // The ten batches written before the failure are readable; the reader is told the writer failed.
        let file = try store.openForRead(k, startMapIndex: 0, endMapIndex: .max)
        #expect(file.writerFailure?.code == .noSpace)
        var batches: [Batch] = []
        for chunk in file.chunks { batches += try parseBatches(try store.readChunk(file, chunk: chunk)) }
        #expect(batches.map(\.header.sequence) == Array(0..<10))
        #expect(budget.usedBytes > 0)

        // Space comes back: flush writes the buffered, acknowledged batches out, yet the writer stays failed.
        fs.faults.withLock { $0.pwriteErrno = nil }
        #expect(throws: StorageError.self) { try store.flush(k) }
        #expect(budget.usedBytes == 0)
        let again = try readAll(store, k)
        #expect(again.batches.count == Int(sequence - 1))
        #expect(throws: StorageError.self) { _ = try store.append(k, batch: makeBatch(mapIndex: 2, sequence: 0, payloadBytes: 1)) }

        // Other partitions are unaffected.
        #expect(try store.append(try key(partition: 5), batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 10)) == .stored)
        // Closing reports the failed file after closing every file.
        #expect(storageError { try store.close() }?.code == .noSpace)
        #expect(budget.usedBytes == 0)
    }

    @Test func ioErrorOnDirectWriteAndFsyncFailTheWriter() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let fs = FaultyFileSystem()
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let store = try DirectoryPartitionStore(rootDirectory: temp.path,
                                                config: StoreConfig(flushBufferBytes: 1024, fsyncOnFlush: true),
                                                memoryBudget: budget, fileSystem: fs, logger: quietLogger)
        let big = try key(partition: 1)
        _ = try store.append(big, batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 5000))
        fs.faults.withLock { $0.pwriteErrno = EIO }
        do {
            _ = try store.append(big, batch: makeBatch(mapIndex: 0, sequence: 1, payloadBytes: 5000))
            Issue.record("expected ioError")
        } catch {
            #expect(error.code == .ioError && error.errno == EIO)
        }
        fs.faults.withLock { $0.pwriteErrno = nil }
        #expect(try readAll(store, big).batches.map(\.header.sequence) == [0])

        let synced = try key(partition: 2)
        _ = try store.append(synced, batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 10))
        try store.flush(synced)
        fs.faults.withLock { $0.fsyncErrno = EIO }
        _ = try store.append(synced, batch: makeBatch(mapIndex: 0, sequence: 1, payloadBytes: 10))
        #expect(throws: StorageError.self) { try store.flush(synced) }
        fs.faults.withLock { $0.fsyncErrno = nil }
        // fdatasync reports a lost write-back once: the writer must not look durable afterwards.
        #expect(throws: StorageError.self) { try store.flush(synced) }
        #expect(throws: StorageError.self) { try store.close() }
        #expect(budget.usedBytes == 0)
    }

    @Test func shortWritesAndInterruptsStillProduceACorrectFile() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let fs = FaultyFileSystem()
        fs.faults.withLock {
            $0.maxWriteBytes = 777
            $0.eintrEvery = 3
        }
        let store = try DirectoryPartitionStore(rootDirectory: temp.path,
                                                config: StoreConfig(flushBufferBytes: 8192, chunkTargetBytes: 20_000),
                                                memoryBudget: MemoryBudget(capacityBytes: 1 << 20), fileSystem: fs,
                                                logger: quietLogger)
        let k = try key()
        var expected: [UInt8] = []
        for sequence in UInt32(0)..<60 {
            let batch = makeBatch(mapIndex: sequence % 5, sequence: sequence, payloadBytes: [1, 900, 5000, 9000][Int(sequence) % 4])
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
