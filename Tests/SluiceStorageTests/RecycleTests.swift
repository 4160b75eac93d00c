import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceStorage

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct RecycleTests {
    func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    func sizeBytes(_ path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }

    func pooledFiles(_ root: String) throws -> [String] {
        try PosixSystem().listDirectory(path: root + "/" + FileRecycler.directoryName).map(\.name).sorted()
    }

    func makeStore(_ root: String, recycledFilesMax: Int = 10_000) throws -> DirectoryPartitionStore {
        try DirectoryPartitionStore(
            rootDirectory: root, config: StoreConfig(recycledFilesMax: recycledFilesMax),
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), logger: quietLogger)
    }

    @Test func deletedFilesAreReusedEmptyByNewPartitions() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try makeStore(temp.path)
        let old = try (0..<3).map { try key("app-a", shuffle: 1, partition: $0) }
        for k in old { _ = try store.append(k, batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 5_000)) }
        try store.flush(old[0])
        let oldInodes = Set(old.compactMap { inode(store.volume.filePath($0)) })
        #expect(oldInodes.count == 3)

        #expect(try store.deleteShuffle(applicationId: "app-a", shuffleId: 1) == 3)
        #expect(store.recycledFileCount == 3)
        #expect(try pooledFiles(temp.path).count == 3)
        for name in try pooledFiles(temp.path) {
            #expect(sizeBytes(temp.path + "/" + FileRecycler.directoryName + "/" + name) == 0, "emptied on delete")
        }

        let new = try (0..<4).map { try key("app-b", shuffle: 7, partition: $0) }
        for (index, k) in new.enumerated() {
            _ = try store.append(k, batch: makeBatch(mapIndex: UInt32(index), sequence: 3, payloadBytes: 100))
        }
        let newInodes = new.compactMap { inode(store.volume.filePath($0)) }
        #expect(Set(newInodes).intersection(oldInodes).count == 3, "three of four new files reuse deleted ones")
        #expect(store.recycledFileCount == 0)
        for (index, k) in new.enumerated() {
            let read = try readAll(store, k)
            #expect(read.batches.map(\.header.mapIndex) == [UInt32(index)], "only the new partition's batch")
            #expect(read.bytes.count == makeBatch(mapIndex: 0, sequence: 3, payloadBytes: 100).encodedByteCount)
        }
        try store.close()
    }

    @Test(arguments: [0, 2])
    func poolIsBounded(capacity: Int) throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try makeStore(temp.path, recycledFilesMax: capacity)
        for partition in UInt32(0)..<5 {
            _ = try store.append(
                try key(partition: partition), batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 10))
        }
        #expect(try store.deleteShuffle(applicationId: "app-1", shuffleId: 1) == 5)
        #expect(store.recycledFileCount == capacity)
        #expect(try pooledFiles(temp.path).count == capacity)
        #expect(!fileExists(temp.path + "/app-1/1"))
        try store.close()
    }

    @Test func aFileWithAnOpenReaderIsUnlinkedNotRecycled() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try makeStore(temp.path)
        let read = try key(partition: 0)
        let other = try key(partition: 1)
        for k in [read, other] {
            _ = try store.append(k, batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 300))
        }
        let reader = try store.openForRead(read)
        #expect(try store.deleteShuffle(applicationId: "app-1", shuffleId: 1) == 2)
        #expect(store.recycledFileCount == 1, "only the file nobody reads")
        // Reused files must not change what the open reader sees.
        _ = try store.append(
            try key("app-2", partition: 0), batch: makeBatch(mapIndex: 9, sequence: 0, payloadBytes: 900))
        let batches = try parseBatches(try store.readChunk(reader, chunk: reader.chunks[0]))
        #expect(batches.map(\.header.mapIndex) == [0])
        #expect(batches.first?.payload.count == 300)
        try store.close()
    }

    @Test func aSymbolicLinkInThePoolIsNeverWrittenThrough() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let outside = temp.path + "/outside.txt"
        let fd = open(outside, O_WRONLY | O_CREAT, 0o644)
        #expect(fd >= 0)
        let content = [UInt8](repeating: 0x5A, count: 1000)
        #expect(content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == 1000)
        close(fd)
        let root = temp.path + "/store"
        _ = try makeStore(root)  // creates the pool directory
        #expect(symlink(outside, root + "/" + FileRecycler.directoryName + "/5.free") == 0)

        let store = try makeStore(root)
        #expect(store.recycledFileCount == 1)
        let k = try key(partition: 0)
        _ = try store.append(k, batch: makeBatch(mapIndex: 2, sequence: 0, payloadBytes: 40))
        #expect(try readAll(store, k).batches.map(\.header.mapIndex) == [2])
        #expect(sizeBytes(outside) == 1000, "the link's target is neither truncated nor written")
        var info = stat()
        #expect(lstat(store.volume.filePath(k), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG, "a regular file")
        try store.close()
    }

    @Test func aRestartAdoptsThePoolAndEmptiesLeftoverBytes() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        do {
            let store = try makeStore(temp.path)
            _ = try store.append(try key(partition: 0), batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 64))
            try store.deleteShuffle(applicationId: "app-1", shuffleId: 1)
            try store.close()
        }
        // A crash between moving a file in and emptying it would leave bytes behind.
        let leftover = temp.path + "/" + FileRecycler.directoryName + "/999.free"
        let fd = open(leftover, O_WRONLY | O_CREAT, 0o644)
        #expect(fd >= 0)
        let junk = [UInt8](repeating: 0xAB, count: 4096)
        #expect(junk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == 4096)
        close(fd)

        let store = try makeStore(temp.path)
        #expect(store.recycledFileCount == 2)
        let report = try store.recover()
        #expect(report.recovered.isEmpty && report.skippedPaths.isEmpty, "recovery ignores the pool")
        for partition in UInt32(0)..<2 {
            let k = try key("app-3", partition: partition)
            _ = try store.append(k, batch: makeBatch(mapIndex: 1, sequence: 0, payloadBytes: 50))
            #expect(try readAll(store, k).batches.map(\.header.mapIndex) == [1])
            #expect(
                sizeBytes(store.volume.filePath(k))
                    == makeBatch(mapIndex: 1, sequence: 0, payloadBytes: 50).encodedByteCount,
                "no bytes of a pooled file survive")
        }
        #expect(store.recycledFileCount == 0)
        try store.close()
    }

    @Test func spareFilesFillThePoolOnceAndBecomeNewPartitions() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let config = StoreConfig(recycledFilesMax: 10, spareFilesAtStart: 6)
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path, config: config, memoryBudget: MemoryBudget(capacityBytes: 1 << 20),
            logger: quietLogger)
        #expect(store.createSpareFiles() == 6)
        #expect(store.recycledFileCount == 6)
        #expect(store.createSpareFiles() == 0, "a pool holding its spares gets no more")
        let spareInodes = Set(
            try pooledFiles(temp.path).compactMap { inode(temp.path + "/" + FileRecycler.directoryName + "/" + $0) })
        #expect(spareInodes.count == 6)

        let keys = try (0..<2).map { try key("app-s", partition: $0) }
        for k in keys { _ = try store.append(k, batch: makeBatch(mapIndex: 4, sequence: 0, payloadBytes: 70)) }
        #expect(Set(keys.compactMap { inode(store.volume.filePath($0)) }).isSubset(of: spareInodes))
        #expect(store.recycledFileCount == 4)
        for k in keys { #expect(try readAll(store, k).batches.map(\.header.mapIndex) == [4]) }
        try store.close()

        let reopened = try DirectoryPartitionStore(
            rootDirectory: temp.path, config: config, memoryBudget: MemoryBudget(capacityBytes: 1 << 20),
            logger: quietLogger)
        #expect(reopened.recycledFileCount == 4, "a restart adopts the spares left")
        #expect(reopened.createSpareFiles() == 2, "and tops the pool up to its spare count")
        try reopened.close()
    }

    @Test(arguments: [(0, 50), (3, 50), (10, 0)])
    func spareFilesStayWithinThePool(recycledFilesMax: Int, spareFilesAtStart: Int) throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path,
            config: StoreConfig(recycledFilesMax: recycledFilesMax, spareFilesAtStart: spareFilesAtStart),
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), logger: quietLogger)
        let expected = min(recycledFilesMax, spareFilesAtStart)
        #expect(store.createSpareFiles() == expected)
        #expect(try pooledFiles(temp.path).count == expected)
        try store.close()
    }

    @Test func aClosedStoreCreatesNoSpareFiles() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try DirectoryPartitionStore(
            rootDirectory: temp.path, config: StoreConfig(recycledFilesMax: 10, spareFilesAtStart: 10),
            memoryBudget: MemoryBudget(capacityBytes: 1 << 20), logger: quietLogger)
        try store.close()
        #expect(store.createSpareFiles() == 0)
    }
}
