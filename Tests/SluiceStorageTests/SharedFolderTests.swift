import SluiceConfig
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceStorage

/// A worker writes its `fsx` files under its own folder, and another store adopts a lost worker's folder: it serves
/// the files read-only and deletes them with their shuffle.
@Suite struct SharedFolderTests {
    static func store(_ fsx: String, workerId: String) throws -> DirectoryPartitionStore {
        try DirectoryPartitionStore(
            tiers: [
                StorageTierConfig(
                    kind: .fsx, directories: [fsx], capacityBytes: 1 << 30, fileSystemShare: 1,
                    highWatermarkFraction: 0.9, lowWatermarkFraction: 0.5)
            ], config: ManifestTests.config, memoryBudget: MemoryBudget(capacityBytes: 64 << 20),
            logger: quietLogger, sharedFolder: workerId)
    }

    @Test func eachWorkerWritesUnderItsOwnFolderWithAFileNameSafeId() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try Self.store(temp.path, workerId: "10.0.0.7:9098/x")
        #expect(store.sharedFolders() == [SharedFolder(directory: temp.path, folder: "10.0.0.7_9098_x")])
        _ = try store.append(try key(partition: 1), batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 10))
        try store.flush(try key(partition: 1))
        #expect(fileExists(temp.path + "/10.0.0.7_9098_x/app-1/1/1-0-p.data"))
        #expect(DirectoryPartitionStore.folderName("..") == "_..")
    }

    @Test func anAdoptedFolderIsServedReadOnlyAndDeletedWithItsShuffle() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let seen = try ManifestTests.writeAndRead(try Self.store(temp.path, workerId: "lost"))
        let adopter = try Self.store(temp.path, workerId: "adopter")
        _ = try adopter.recover()
        let folder = SharedFolder(directory: temp.path, folder: "lost")
        let adopted = try adopter.adoptSharedFolder(folder)
        #expect(Set(adopted.map(\.key)) == Set(seen.keys))
        try ManifestTests.expectSame(adopter, seen)
        // Adopting again changes nothing; the adopter's own folder cannot be adopted.
        #expect(try adopter.adoptSharedFolder(folder).count == adopted.count)
        #expect(
            storageError { _ = try adopter.adoptSharedFolder(SharedFolder(directory: temp.path, folder: "adopter")) }
                != nil)
        let k = try key(shuffle: 3, partition: 0)
        #expect(
            try adopter.append(k, batch: makeBatch(mapIndex: 0, sequence: 50, payloadBytes: 10)) == .refusedHardSplit)
        #expect(adopter.directories().count == 1, "an adopted folder is not a placement directory")
        try adopter.deleteShuffle(applicationId: "app-1", shuffleId: 3)
        #expect(!fileExists(temp.path + "/lost/app-1/3"))
        #expect(adopter.heldPartitions().isEmpty)
    }
}
