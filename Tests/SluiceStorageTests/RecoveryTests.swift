import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceStorage

@Suite struct RecoveryTests {
    let config = StoreConfig(flushBufferBytes: 8192, chunkTargetBytes: 50_000)

    /// Writes batches to two partitions and closes the store; returns what a reader saw before closing.
    func writeFiles(_ root: String) throws -> [PartitionFileKey: (bytes: [UInt8], chunks: [ChunkInfo])] {
        let store = try DirectoryPartitionStore(
            rootDirectory: root, config: config,
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), logger: quietLogger)
        var seen: [PartitionFileKey: (bytes: [UInt8], chunks: [ChunkInfo])] = [:]
        for partition in UInt32(0)..<2 {
            let k = try key(shuffle: 4, partition: partition, role: partition == 0 ? .primary : .replica)
            for sequence in UInt32(0)..<40 {
                _ = try store.append(
                    k,
                    batch: makeBatch(
                        mapIndex: sequence % 7, sequence: sequence,
                        payloadBytes: Int(sequence) * 97 % 9000 + 1,
                        codec: sequence == 5 ? .none : .zstd))
            }
            let result = try readAll(store, k)
            seen[k] = (result.bytes, result.chunks)
        }
        try store.close()
        return seen
    }

    func reopen(_ root: String) throws -> (DirectoryPartitionStore, RecoveryReport) {
        let store = try DirectoryPartitionStore(
            rootDirectory: root, config: config,
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), logger: quietLogger)
        return (store, try store.recover())
    }

    @Test func recoverRebuildsTheSameChunksAndBytes() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let seen = try writeFiles(temp.path)
        try appendRaw([1, 2, 3], to: temp.path + "/app-1/4/stray.tmp")
        let (store, report) = try reopen(temp.path)
        #expect(report.recovered.count == 2 && report.truncatedTails.isEmpty && report.corruptFiles.isEmpty)
        #expect(report.skippedPaths == [temp.path + "/app-1/4/stray.tmp"])
        #expect(store.heldShuffles() == [ShuffleKey(applicationId: "app-1", shuffleId: 4)])
        for (k, before) in seen {
            let after = try readAll(store, k)
            #expect(after.chunks == before.chunks)
            #expect(after.bytes == before.bytes)
        }
        // Recovered files take further appends.
        let k = try key(shuffle: 4, partition: 0)
        #expect(try store.append(k, batch: makeBatch(mapIndex: 1, sequence: 99, payloadBytes: 10)) == .stored)
        #expect(try readAll(store, k).batches.last?.header.sequence == 99)
        try store.close()
    }

    @Test(arguments: ["partialHeader", "shortPayload", "zeros", "badLastChecksum"])
    func recoverTruncatesATornTail(kind: String) throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let seen = try writeFiles(temp.path)
        let k = try key(shuffle: 4, partition: 0)
        let path = temp.path + "/app-1/4/0-0-p.data"
        let sizeBefore = try fileSize(path)
        let tail = encoded(makeBatch(mapIndex: 3, sequence: 500, payloadBytes: 300))
        switch kind {
        case "partialHeader": try appendRaw(Array(tail.prefix(20)), to: path)
        case "shortPayload": try appendRaw(Array(tail.prefix(200)), to: path)
        case "zeros": try appendRaw([UInt8](repeating: 0, count: 4096), to: path)
        default:
            try appendRaw(tail, to: path)
            try overwriteByte(at: sizeBefore + 100, in: path, with: tail[100] ^ 0xFF)
        }
        let (store, report) = try reopen(temp.path)
        #expect(report.truncatedTails.count == 1)
        #expect(report.truncatedTails.first?.validBytes == sizeBefore)
        #expect(report.corruptFiles.isEmpty)
        #expect(try fileSize(path) == sizeBefore)
        let after = try readAll(store, k)
        #expect(after.chunks == seen[k]?.chunks)
        #expect(after.bytes == seen[k]?.bytes)
        #expect(try store.append(k, batch: makeBatch(mapIndex: 1, sequence: 99, payloadBytes: 10)) == .stored)
        try store.close()
    }

    @Test func recoverKeepsTheValidPrefixOfACorruptFile() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let seen = try writeFiles(temp.path)
        let k = try key(shuffle: 4, partition: 1, role: .replica)
        let path = temp.path + "/app-1/4/1-0-r.data"
        let sizeBefore = try fileSize(path)
        let before = try #require(seen[k])
        let batches = try parseBatches(before.bytes)
        // Damage the payload of batch 3: batches 0...2 remain valid.
        let prefixBytes = batches[0..<3].reduce(0) { $0 + $1.encodedByteCount }
        try overwriteByte(
            at: prefixBytes + BatchHeader.byteCount, in: path,
            with: before.bytes[prefixBytes + BatchHeader.byteCount] ^ 1)
        let (store, report) = try reopen(temp.path)
        #expect(report.corruptFiles.count == 1 && report.truncatedTails.isEmpty)
        #expect(report.corruptFiles.first?.validBytes == prefixBytes)
        #expect(try fileSize(path) == sizeBefore)
        let held = store.heldPartitions().first { $0.key == k }
        #expect(held?.isFailed == true && held?.fileBytes == prefixBytes)
        let after = try readAll(store, k)
        #expect(after.batches.map(\.header.sequence) == [0, 1, 2])
        #expect(
            storageError {
                _ = try store.append(k, batch: makeBatch(mapIndex: 1, sequence: 99, payloadBytes: 10))
            }?.code == .corrupt)
        #expect(throws: StorageError.self) { try store.close() }
    }
}
