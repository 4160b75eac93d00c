import SluiceConfig
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceStorage

#if canImport(Glibc)
    import Glibc
#endif

/// Tiers of directories: placement in the fastest tier with room, spreading over a tier's directories, space
/// counted as bytes are written and deleted, and directories that cannot be written refused at start-up.
@Suite struct TierTests {
    static let batchPayloadBytes = 1_000
    static var batchBytes: Int { makeBatch(mapIndex: 0, sequence: 0, payloadBytes: batchPayloadBytes).encodedByteCount }

    static func tier(
        _ kind: StorageTierConfig.Kind, _ directories: [String], capacityBytes: Int,
        high: Double = 0.5
    ) -> StorageTierConfig {
        StorageTierConfig(
            kind: kind, directories: directories, capacityBytes: capacityBytes, fileSystemShare: 1,
            highWatermarkFraction: high, lowWatermarkFraction: high / 2)
    }

    static func store(_ tiers: [StorageTierConfig]) throws -> DirectoryPartitionStore {
        try DirectoryPartitionStore(
            tiers: tiers, config: StoreConfig(flushBufferBytes: 4096, chunkTargetBytes: 8192),
            memoryBudget: MemoryBudget(capacityBytes: 64 << 20), logger: quietLogger)
    }

    /// The tier and directory each partition's file landed in.
    static func placements(_ store: DirectoryPartitionStore, partitions: Range<UInt32>) throws -> [String] {
        try partitions.map { partition in
            try #require(store.existingWriter(try key(partition: partition))).volume.path
        }
    }

    @Test func newFilesFillTheFastestTierThenOverflowIntoTheNextAndEveryByteReadsBack() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        // Ten batches per directory of the first two tiers before their high watermark; the third is large.
        let perDirectoryBytes = Self.batchBytes * 20
        let nvme = [temp.file("nvme0"), temp.file("nvme1")]
        let store = try Self.store([
            Self.tier(.nvme, nvme, capacityBytes: perDirectoryBytes),
            Self.tier(.ebs, [temp.file("ebs")], capacityBytes: perDirectoryBytes),
            Self.tier(.fsx, [temp.file("fsx")], capacityBytes: 100 * perDirectoryBytes),
        ])
        let partitions = UInt32(0)..<60
        for partition in partitions {
            let outcome = try store.append(
                try key(partition: partition),
                batch: makeBatch(
                    mapIndex: partition, sequence: 0,
                    payloadBytes: Self.batchPayloadBytes))
            #expect(outcome == .stored)
        }
        let placed = try Self.placements(store, partitions: partitions)
        let counts = Dictionary(grouping: placed, by: { $0 }).mapValues(\.count)
        // Each directory of the first two tiers takes files until it reaches half its capacity (ten batches).
        #expect(counts[nvme[0]] == 10 && counts[nvme[1]] == 10, "\(counts)")
        #expect(counts[temp.file("ebs")] == 10, "\(counts)")
        #expect(counts[temp.file("fsx")] == 30, "\(counts)")
        #expect(Array(placed.prefix(20)).allSatisfy { nvme.contains($0) }, "the fastest tier fills first")
        for partition in partitions {
            let batches = try readAll(store, try key(partition: partition)).batches
            #expect(batches.map(\.header.mapIndex) == [partition])
        }
        let space = try store.diskSpace()
        #expect(space.capacityBytes == 3 * perDirectoryBytes + 100 * perDirectoryBytes)
        #expect(space.freeBytes == space.capacityBytes - 60 * Self.batchBytes)
        try store.close()
    }

    @Test func aFullDirectoryRefusesWithAHardSplitAndDeletesGiveTheSpaceBack() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let capacityBytes = Self.batchBytes * 4
        let store = try Self.store([Self.tier(.nvme, [temp.file("only")], capacityBytes: capacityBytes, high: 0.9)])
        let k = try key(partition: 0)
        for sequence in UInt32(0)..<4 {
            #expect(
                try store.append(
                    k,
                    batch: makeBatch(
                        mapIndex: 0, sequence: sequence,
                        payloadBytes: Self.batchPayloadBytes)) == .stored)
        }
        // The directory is full: the file takes no more, and no new file can be placed.
        #expect(
            try store.append(
                k,
                batch: makeBatch(
                    mapIndex: 0, sequence: 4,
                    payloadBytes: Self.batchPayloadBytes)) == .refusedHardSplit)
        let full = storageError {
            _ = try store.append(
                try key(partition: 1),
                batch: makeBatch(
                    mapIndex: 0, sequence: 0,
                    payloadBytes: Self.batchPayloadBytes))
        }
        #expect(full?.code == .noSpace && full?.status == .hardSplit)
        #expect(store.volume.usedBytes == capacityBytes)
        try store.deleteShuffle(applicationId: k.applicationId, shuffleId: k.shuffleId)
        #expect(store.volume.usedBytes == 0, "deleting counts the space back at once, without a scan")
        #expect(
            try store.append(
                try key(partition: 2),
                batch: makeBatch(
                    mapIndex: 0, sequence: 0,
                    payloadBytes: Self.batchPayloadBytes)) == .stored)
        try store.close()
    }

    @Test func recoveredFilesCountAgainstTheirDirectory() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let tiers = [Self.tier(.ebs, [temp.file("a"), temp.file("b")], capacityBytes: 1 << 20)]
        let first = try Self.store(tiers)
        for partition in UInt32(0)..<6 {
            _ = try first.append(
                try key(partition: partition),
                batch: makeBatch(
                    mapIndex: 0, sequence: 0,
                    payloadBytes: Self.batchPayloadBytes))
        }
        try first.close()
        let second = try Self.store(tiers)
        let report = try second.recover()
        #expect(report.recovered.count == 6)
        #expect(
            second.volumes.map(\.usedBytes) == [3 * Self.batchBytes, 3 * Self.batchBytes],
            "files spread over both directories, and each counts what it holds")
        try second.close()
    }

    @Test func aDirectoryThatCannotBeWrittenIsRefusedAndTheOthersServe() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        // A path under a regular file can never be created: what a mount the worker cannot write looks like.
        let blocker = temp.file("not-a-directory")
        try appendRaw([1], to: blocker)
        let store = try Self.store([Self.tier(.nvme, [blocker + "/nvme", temp.file("good")], capacityBytes: 1 << 20)])
        #expect(store.volumes.map(\.path) == [temp.file("good")])
        #expect(store.refusedDirectories.map(\.path) == [blocker + "/nvme"])
        #expect(try store.append(try key(), batch: makeBatch(mapIndex: 0, sequence: 0, payloadBytes: 10)) == .stored)
        try store.close()

        let none = storageError { _ = try Self.store([Self.tier(.nvme, [blocker + "/x"], capacityBytes: 1 << 20)]) }
        #expect(none?.code == .ioError)
        #expect(none.map { "\($0)".contains(blocker + "/x") } == true, "the message names the directory")
    }

    @Test func aFileSystemFaultAtTheWriteProbeRefusesTheDirectory() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let failing = FaultInjectingSystem()
        failing.fail(.pwrite, errno: EROFS)
        let error = storageError {
            _ = try DirectoryPartitionStore(
                tiers: [Self.tier(.nvme, [temp.file("ro")], capacityBytes: 1 << 20)],
                config: StoreConfig(), memoryBudget: MemoryBudget(capacityBytes: 1 << 20),
                fileSystem: failing, logger: quietLogger)
        }
        #expect(error?.code == .ioError)
        #expect(error.map { "\($0)".contains("write probe") } == true)
    }
}
