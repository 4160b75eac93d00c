import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceStorage

@Suite struct DeleteTests {
    @Test func deleteShuffleAndApplicationRemoveFilesAndHeldEntries() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path + "/", config: StoreConfig(),
            memoryBudget: budget, logger: quietLogger)
        let keys = [
            try key("app-a", shuffle: 1, partition: 0), try key("app-a", shuffle: 1, partition: 1, role: .replica),
            try key("app-a", shuffle: 2, partition: 0), try key("app-b", shuffle: 1, partition: 0, epoch: 3),
        ]
        for k in keys { _ = try store.append(k, batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 100)) }
        #expect(store.heldPartitions().map(\.key) == keys)
        #expect(
            store.heldShuffles() == [
                ShuffleKey(applicationId: "app-a", shuffleId: 1),
                ShuffleKey(applicationId: "app-a", shuffleId: 2),
                ShuffleKey(applicationId: "app-b", shuffleId: 1),
            ])
        #expect(fileExists(temp.path + "/app-a/1/1-0-r.data"))

        // A reader that opened before the delete keeps reading its unlinked file.
        let reader = try store.openForRead(keys[0], startMapIndex: 0, endMapIndex: 1)
        #expect(try store.deleteShuffle(applicationId: "app-a", shuffleId: 1) == 2)
        #expect(!fileExists(temp.path + "/app-a/1"))
        #expect(try parseBatches(try store.readChunk(reader, chunk: reader.chunks[0])).count == 1)
        #expect(store.heldPartitions().map(\.key) == [keys[2], keys[3]])
        #expect(
            storageError {
                _ = try store.openForRead(keys[0], startMapIndex: 0, endMapIndex: 1)
            }?.code == .unknownPartition)

        #expect(try store.deleteApplication(applicationId: "app-a") == 1)
        #expect(!fileExists(temp.path + "/app-a"))
        #expect(store.heldShuffles() == [ShuffleKey(applicationId: "app-b", shuffleId: 1)])
        #expect(try store.deleteApplication(applicationId: "app-unknown") == 0)
        #expect(throws: StorageError.self) { try store.deleteApplication(applicationId: "..") }
        #expect(fileExists(temp.path + "/app-b/1/0-3-p.data"))

        // A deleted partition can be written again from scratch.
        _ = try store.append(keys[0], batch: makeBatch(mapIndex: 0, sequence: 7, payloadBytes: 10))
        #expect(try readAll(store, keys[0]).batches.map(\.header.sequence) == [7])
        try store.close()
        #expect(budget.usedBytes == 0)
    }
}
