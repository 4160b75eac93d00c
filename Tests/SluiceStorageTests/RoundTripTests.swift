import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceStorage

@Suite struct RoundTripTests {
    @Test func mixedSizesReadBackByteExactInTargetSizedChunks() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let budget = MemoryBudget(capacityBytes: 64 << 20)
        let config = StoreConfig(flushBufferBytes: 256 << 10, chunkTargetBytes: 2 << 20)
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path, config: config, memoryBudget: budget,
            logger: quietLogger)
        let k = try key()
        let sizes = [
            1, 17, 1000, 4 << 20, 64 << 10, 300 << 10, 1 << 20, 5, 200 << 10, 3 << 20, 255 << 10, 8 << 10,
            1, 2 << 20, 100, 512 << 10, 4 << 20, 77, 256 << 10, 1 << 20,
        ]
        var expected: [UInt8] = []
        var appended: [Batch] = []
        for (sequence, size) in sizes.enumerated() {
            let batch = makeBatch(
                mapIndex: UInt32(sequence % 4), sequence: UInt32(sequence), payloadBytes: size,
                codec: sequence % 3 == 0 ? .none : .lz4)
            #expect(try store.append(k, batch: batch) == .stored)
            expected += encoded(batch)
            appended.append(batch)
        }
        let (bytes, chunks, batches) = try readAll(store, k)
        #expect(bytes == expected)
        #expect(batches == appended)

        var offset = 0
        var batchIndex = 0
        for (position, chunk) in chunks.enumerated() {
            #expect(chunk.index == position)
            #expect(chunk.offsetBytes == offset)
            #expect(chunk.lengthBytes <= config.chunkTargetBytes || chunk.batchCount == 1)
            let inChunk = Array(appended[batchIndex..<(batchIndex + chunk.batchCount)])
            #expect(inChunk.reduce(0) { $0 + $1.encodedByteCount } == chunk.lengthBytes)
            #expect(Set(inChunk.map(\.header.mapIndex)).sorted() == chunk.mapIndexes)
            #expect(inChunk.contains { $0.header.codec == .none } == chunk.hasUncompressed)
            offset += chunk.lengthBytes
            batchIndex += chunk.batchCount
        }
        #expect(batchIndex == appended.count)
        #expect(chunks.count > 5)
        try store.close()
        #expect(budget.usedBytes == 0)
    }

    @Test func mapRangeOpenReturnsOnlyChunksHoldingThoseMaps() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path,
            config: StoreConfig(flushBufferBytes: 16 << 10, chunkTargetBytes: 10_000),
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), logger: quietLogger)
        let k = try key()
        for map in UInt32(0)..<10 {
            for sequence in UInt32(0)..<6 {
                _ = try store.append(
                    k, batch: makeBatch(mapIndex: map, sequence: sequence, payloadBytes: 1000 + Int(map)))
            }
        }
        let all = try store.openForRead(k, startMapIndex: 0, endMapIndex: .max)
        let file = try store.openForRead(k, startMapIndex: 3, endMapIndex: 5)
        #expect(!file.chunks.isEmpty && file.chunks.count < all.chunks.count)
        #expect(file.totalChunkCount == all.chunks.count)
        for chunk in all.chunks {
            let wanted = chunk.mapIndexes.contains { (3..<5).contains($0) }
            #expect(file.chunks.contains(chunk) == wanted)
        }
        var found: [UInt32: Int] = [:]
        for chunk in file.chunks {
            for batch in try parseBatches(try store.readChunk(file, chunk: chunk)) {
                found[batch.header.mapIndex, default: 0] += 1
            }
        }
        #expect(found[3] == 6 && found[4] == 6)
        #expect(try store.openForRead(k, startMapIndex: 10, endMapIndex: 20).chunks.isEmpty)
        try store.close()
    }

    @Test func unknownKeyThrowsUnknownPartition() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path, config: StoreConfig(),
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), logger: quietLogger)
        #expect(
            storageError {
                _ = try store.openForRead(try key(partition: 9), startMapIndex: 0, endMapIndex: 1)
            }?.code == .unknownPartition)
        let space = try store.diskSpace()
        #expect(space.capacityBytes > 0 && space.freeBytes <= space.capacityBytes)
        try store.close()
        #expect(throws: StorageError.self) {
            try store.append(try key(), batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 1))
        }
    }

    @Test func readerSnapshotSurvivesLaterAppends() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path,
            config: StoreConfig(flushBufferBytes: 4096, chunkTargetBytes: 1 << 20),
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), logger: quietLogger)
        let k = try key()
        for sequence in UInt32(0)..<3 {
            _ = try store.append(k, batch: makeBatch(mapIndex: 0, sequence: sequence, payloadBytes: 500))
        }
        let file = try store.openForRead(k, startMapIndex: 0, endMapIndex: .max)
        #expect(file.chunks.count == 1 && file.chunks[0].batchCount == 3)
        for sequence in UInt32(3)..<50 {
            _ = try store.append(k, batch: makeBatch(mapIndex: 0, sequence: sequence, payloadBytes: 500))
        }
        let batches = try parseBatches(try store.readChunk(file, chunk: file.chunks[0]))
        #expect(batches.map(\.header.sequence) == [0, 1, 2])
        let later = try store.openForRead(k, startMapIndex: 0, endMapIndex: .max)
        #expect(later.chunks[0].batchCount == 50)
        try store.close()
    }

    /// A directory store serves each chunk as a range of the reader's own descriptor (what sendfile sends), and
    /// the range holds exactly the chunk's batches.
    @Test func chunksAreServedAsRangesOfTheReadersFile() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store: any PartitionStore = try DirectoryPartitionStore(
            rootDirectory: temp.path, config: StoreConfig(flushBufferBytes: 4096, chunkTargetBytes: 2048),
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), logger: quietLogger)
        let k = try key()
        for sequence in UInt32(0)..<12 {
            _ = try store.append(k, batch: makeBatch(mapIndex: 0, sequence: sequence, payloadBytes: 700))
        }
        let file = try store.openForRead(k, startMapIndex: 0, endMapIndex: .max)
        #expect(file.chunks.count > 1)
        var sequences: [UInt32] = []
        for chunk in file.chunks {
            let source = try store.chunkSource(file, chunk: chunk)
            #expect(source == .fileRange(fd: file.fd, offsetBytes: chunk.offsetBytes, lengthBytes: chunk.lengthBytes))
            sequences += try parseBatches(try store.readChunk(file, chunk: chunk)).map(\.header.sequence)
        }
        #expect(sequences == Array(0..<12))
        try store.close()
    }
}
