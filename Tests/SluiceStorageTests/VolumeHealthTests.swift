import SluiceConfig
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Synchronization
import Testing

@testable import SluiceStorage

#if canImport(Glibc)
    import Glibc
#endif

/// Health per directory: a write that fails on the file system (EIO, ENOSPC) marks the directory unhealthy, its
/// files answer hard splits, new files go to the healthy directories, and a probe write brings it back.
@Suite struct VolumeHealthTests {
    struct Setup {
        let temp: TempDirectory
        let disk = FaultInjectingSystem()
        let store: DirectoryPartitionStore
        var first: String { temp.file("disk0") }
        var second: String { temp.file("disk1") }

        init(probeIntervalMs: Int = 0, stallTimeoutMs: Int = 10_000) throws {
            temp = try TempDirectory()
            let tier = StorageTierConfig(
                kind: .nvme, directories: [temp.file("disk0"), temp.file("disk1")],
                capacityBytes: 1 << 30, fileSystemShare: 1, highWatermarkFraction: 0.9,
                lowWatermarkFraction: 0.5)
            store = try DirectoryPartitionStore(
                tiers: [tier],
                config: StoreConfig(
                    flushBufferBytes: 64 << 10, chunkTargetBytes: 1 << 20,
                    healthProbeIntervalMs: probeIntervalMs, stallTimeoutMs: stallTimeoutMs),
                memoryBudget: MemoryBudget(capacityBytes: 64 << 20), fileSystem: disk,
                logger: quietLogger)
        }

        /// The directory a key's file is in.
        func directory(of key: PartitionFileKey) -> String? { store.existingWriter(key)?.volume.path }

        func append(_ key: PartitionFileKey, sequence: UInt32, payloadBytes: Int = 200) throws -> AppendOutcome {
            try store.append(key, batch: makeBatch(mapIndex: 0, sequence: sequence, payloadBytes: payloadBytes))
        }
    }

    /// Keys until one lands in `directory` (placement alternates between two empty directories).
    static func fileKey(in directory: String, of setup: Setup, from start: UInt32) throws -> PartitionFileKey {
        for partition in start..<(start + 8) {
            let k = try key(partition: partition)
            _ = try setup.append(k, sequence: 0)
            if setup.directory(of: k) == directory { return k }
        }
        throw ParseFailure(description: "no file landed in \(directory)")
    }

    @Test(arguments: [EIO, ENOSPC])
    func aFailingDirectoryStopsTakingDataAndComesBackAfterAProbe(errno: Int32) throws {
        let setup = try Setup()
        defer { setup.temp.remove() }
        let onFirst = try Self.fileKey(in: setup.first, of: setup, from: 0)
        setup.disk.fail(under: setup.first, errno: errno)
        // A batch large enough to be written at once fails mid-write: the file fails, the directory is marked,
        // and the push is answered with a hard split (the client moves the partition without blaming the worker).
        #expect(try setup.append(onFirst, sequence: 1, payloadBytes: 40_000) == .refusedHardSplit)
        #expect(try setup.append(onFirst, sequence: 2) == .refusedHardSplit, "a failed file takes nothing more")
        #expect(setup.store.volumes[0].isHealthy == false)
        // New files go to the healthy directory only, while the first one's probe keeps failing.
        for partition in UInt32(100)..<106 {
            let k = try key(partition: partition)
            #expect(try setup.append(k, sequence: 0) == .stored)
            #expect(setup.directory(of: k) == setup.second)
        }
        setup.disk.heal(under: setup.first)
        // The probe (due at every new file here) succeeds: the directory takes files again.
        let placed = try (UInt32(200)..<204).map { partition -> String? in
            let k = try key(partition: partition)
            _ = try setup.append(k, sequence: 0)
            return setup.directory(of: k)
        }
        #expect(placed.contains(setup.first), "\(placed)")
        #expect(setup.store.volumes[0].isHealthy)
        try? setup.store.close()
    }

    @Test func aFailedFileRefusesReadersSoTheyReadTheReplica() throws {
        let setup = try Setup()
        defer { setup.temp.remove() }
        let onFirst = try Self.fileKey(in: setup.first, of: setup, from: 0)
        // Writes fail: the read's flush of the acknowledged batch fails, the snapshot says the copy is incomplete.
        setup.disk.fail(.pwrite, errno: EIO)
        let reader = try setup.store.openForRead(onFirst)
        #expect(reader.writerFailure?.isFileSystemFailure == true)
        setup.disk.heal(.pwrite)
        // The whole directory fails: opening a reader fails with an I/O error (the reader fails over).
        setup.disk.fail(under: setup.first, errno: EIO)
        #expect(storageError { _ = try setup.store.openForRead(onFirst) }?.status == .ioError)
        try? setup.store.close()
    }

    @Test func withoutAHealthyDirectoryNewFilesAreRefusedWithAHardSplit() throws {
        let setup = try Setup(probeIntervalMs: 3_600_000)
        defer { setup.temp.remove() }
        let onFirst = try Self.fileKey(in: setup.first, of: setup, from: 0)
        let onSecond = try Self.fileKey(in: setup.second, of: setup, from: 10)
        setup.disk.fail(under: setup.first, errno: EIO)
        setup.disk.fail(under: setup.second, errno: ENOSPC)
        #expect(try setup.append(onFirst, sequence: 1, payloadBytes: 40_000) == .refusedHardSplit)
        #expect(try setup.append(onSecond, sequence: 1, payloadBytes: 40_000) == .refusedHardSplit)
        #expect(setup.store.volumes.allSatisfy { !$0.isHealthy })
        let error = storageError { _ = try setup.append(try key(partition: 30), sequence: 0) }
        #expect(error?.status == .hardSplit, "\(String(describing: error))")
        setup.disk.heal(under: setup.first)
        setup.disk.heal(under: setup.second)
        // Healed, but not probed again within the hour: still no new files.
        #expect(storageError { _ = try setup.append(try key(partition: 31), sequence: 0) }?.status == .hardSplit)
        try? setup.store.close()
    }

    @Test func aStalledDirectoryIsNoticedWhileItsCallHangsAndComesBackWhenItReturns() throws {
        let setup = try Setup(stallTimeoutMs: 200)
        defer { setup.temp.remove() }
        let onFirst = try Self.fileKey(in: setup.first, of: setup, from: 0)
        setup.disk.stall(under: setup.first)
        // A batch large enough to be written at once hangs in pwrite, holding its file's lock.
        let stuckAppend = Mutex<Result<AppendOutcome, any Error>?>(nil)
        let store = setup.store
        try SystemThread.spawn {
            let outcome = Result { () throws -> AppendOutcome in
                try store.append(onFirst, batch: makeBatch(mapIndex: 0, sequence: 1, payloadBytes: 40_000))
            }
            stuckAppend.withLock { $0 = outcome }
        }
        try waitUntil("the write is stuck in the stalled directory") { setup.disk.stalledCallCount == 1 }
        try waitUntil("the stall is noticed") {
            setup.store.directories().first { $0.path == setup.first }?.healthy == false
        }
        // Other threads are not held up: new files go to the healthy directory, the stalled file's pushes split
        // away and its readers are sent to the other copy at once.
        for partition in UInt32(100)..<104 {
            let k = try key(partition: partition)
            #expect(try setup.append(k, sequence: 0) == .stored)
            #expect(setup.directory(of: k) == setup.second)
        }
        #expect(try setup.append(onFirst, sequence: 2) == .refusedHardSplit)
        let readError = storageError { _ = try setup.store.openForRead(onFirst) }
        #expect(readError?.status == .ioError && readError?.errno == ETIMEDOUT, "\(String(describing: readError))")
        #expect(stuckAppend.withLock { $0 == nil }, "the stuck append is still waiting")
        // The disk answers again: the stuck write completes, and the next new file's probe brings the directory back.
        setup.disk.heal(under: setup.first)
        try waitUntil("the stuck append returns") { stuckAppend.withLock { $0 != nil } }
        #expect(try stuckAppend.withLock { try $0?.get() } == .stored)
        #expect(setup.store.volumes[0].isHealthy == false, "healthy again only after a probe")
        #expect(try setup.append(try key(partition: 200), sequence: 0) == .stored)
        #expect(setup.store.volumes[0].isHealthy, "the new file's placement probed the directory")
        let reader = try setup.store.openForRead(onFirst)
        #expect(reader.fileBytes > 40_000, "the stalled batch was written once the disk answered")
        try? setup.store.close()
    }
}
