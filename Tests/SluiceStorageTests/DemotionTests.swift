import SluiceCompression
import SluiceConfig
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Synchronization
import Testing

@testable import SluiceStorage

/// Demotion: idle files move out of a directory above its high watermark into later tiers until it is back under
/// its low watermark; readers of the old copy finish from it, new readers find the new one, and every byte reads
/// back, re-encoded to Zstandard when the destination tier asks for it.
@Suite struct DemotionTests {
    static let batchesPerFile = 4
    static let rawBatchBytes = 2_000

    /// Three tiers of one directory each: a small nvme, a small ebs and a large fsx.
    static func tiers(_ temp: TempDirectory, reencode: Bool = false) -> [StorageTierConfig] {
        [
            StorageTierConfig(
                kind: .nvme, directories: [temp.file("nvme")], capacityBytes: 64 << 10, fileSystemShare: 1,
                highWatermarkFraction: 0.6, lowWatermarkFraction: 0.3),
            StorageTierConfig(
                kind: .ebs, directories: [temp.file("ebs")], capacityBytes: 48 << 10, fileSystemShare: 1,
                highWatermarkFraction: 0.6, lowWatermarkFraction: 0.3),
            StorageTierConfig(
                kind: .fsx, directories: [temp.file("fsx")], capacityBytes: 64 << 20, fileSystemShare: 1,
                highWatermarkFraction: 0.9, lowWatermarkFraction: 0.5, reencodeToZstd: reencode),
        ]
    }

    static func store(
        _ tiers: [StorageTierConfig], fileSystem: any SystemCalls = PosixSystem()
    ) throws -> DirectoryPartitionStore {
        try DirectoryPartitionStore(
            tiers: tiers, config: StoreConfig(flushBufferBytes: 4096, chunkTargetBytes: 8192, demotionIdleMs: 0),
            memoryBudget: MemoryBudget(capacityBytes: 64 << 20), fileSystem: fileSystem, logger: quietLogger)
    }

    /// A real batch (compressible records, encoded with `codec`) of partition `partition`.
    static func batch(partition: UInt32, sequence: UInt32, codec: Codec) throws -> Batch {
        var generator = SeededGenerator(seed: UInt64(partition) << 16 | UInt64(sequence))
        let words = ["alpha", "beta", "gamma", "delta", "shuffle", "record", "key", "value"]
        var raw: [UInt8] = []
        while raw.count < rawBatchBytes { raw += Array(words[Int(generator.next() % 8)].utf8) + [0x20] }
        let (header, stored) = try BatchCodec.encode(
            raw: raw, codec: codec, mapIndex: partition, attemptId: 7, sequence: sequence,
            isLast: sequence == UInt32(batchesPerFile - 1), fallbackToNoneWhenLarger: false)
        return Batch(header: header, payload: stored[...])
    }

    /// Appends `batchesPerFile` batches to each partition's file (written out) and returns their raw records.
    static func fill(
        _ store: DirectoryPartitionStore, partitions: Range<UInt32>, codec: (UInt32) -> Codec = { _ in .none }
    ) throws -> [UInt32: [UInt8]] {
        var raw: [UInt32: [UInt8]] = [:]
        for partition in partitions {
            let k = try key(partition: partition)
            for sequence in 0..<UInt32(batchesPerFile) {
                let batch = try batch(partition: partition, sequence: sequence, codec: codec(partition))
                let outcome = try store.append(k, batch: batch)
                try #require(outcome == .stored, "partition \(partition) sequence \(sequence): \(outcome)")
                raw[partition, default: []] += try BatchCodec.decode(batch)
            }
            try store.flush(k)
        }
        return raw
    }

    /// Every record of the key's file, decoded, and the codecs of its batches.
    static func records(_ store: DirectoryPartitionStore, _ k: PartitionFileKey) throws -> (
        raw: [UInt8], codecs: Set<Codec>
    ) {
        let batches = try readAll(store, k).batches
        return (try batches.flatMap { try BatchCodec.decode($0) }, Set(batches.map(\.header.codec)))
    }

    static func directory(of store: DirectoryPartitionStore, _ partition: UInt32) throws -> String {
        try #require(store.existingWriter(try key(partition: partition))).volume.path
    }

    @Test func filesOverflowingTheFirstTierAreDemotedIntoTheSecondAndThirdAndReadBack() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let tiers = Self.tiers(temp)
        let store = try Self.store(tiers)
        // Files of 8,128 bytes: five fill the first tier past its high watermark, two go to the second, which then
        // has room under its own high watermark for one more: demotion fills it, then goes on to the third.
        let partitions = UInt32(0)..<7
        let raw = try Self.fill(store, partitions: partitions)
        let nvme = store.volumes[0]
        try #require(nvme.usedBytes > nvme.highWatermarkBytes, "the first tier is past its high watermark")
        // Readers opened before the move keep reading the old copy; new readers find the new one.
        var early: [UInt32: ReadableFile] = [:]
        for partition in partitions where try Self.directory(of: store, partition) == temp.file("nvme") {
            early[partition] = try store.openForRead(try key(partition: partition), startMapIndex: 0, endMapIndex: .max)
        }
        let report = store.demote()
        #expect(report.failedMoves == 0 && report.abandonedMoves == 0, "\(report)")
        #expect(nvme.usedBytes <= nvme.lowWatermarkBytes, "the first tier is back under its low watermark")
        let ebs = store.volumes[1]
        #expect(ebs.usedBytes <= ebs.highWatermarkBytes, "the second tier stays under its high watermark")
        let placed = try partitions.map { try Self.directory(of: store, $0) }
        #expect(placed.contains(temp.file("ebs")) && placed.contains(temp.file("fsx")), "\(placed)")
        #expect(Set(report.moved.map(\.toTier)) == [1, 2], "moves went into the second tier, then the third")
        #expect(report.moved.allSatisfy { $0.fromTier == 0 && $0.sourceBytes == $0.movedBytes })
        #expect(report.moved.count == 3, "\(report.moved)")
        for moved in report.moved {
            let reader = try #require(early[moved.key.partitionId])
            var earlyBytes: [UInt8] = []
            for chunk in reader.chunks { earlyBytes += try reader.readChunk(chunk) }
            #expect(
                try parseBatches(earlyBytes).flatMap { try BatchCodec.decode($0) } == raw[moved.key.partitionId],
                "a reader of the old copy finishes from it after the move")
        }
        early.removeAll()
        for partition in partitions {
            let k = try key(partition: partition)
            #expect(try Self.records(store, k).raw == raw[partition], "partition \(partition)")
        }
        // Accounting follows the files; the old copies are gone.
        let total = store.volumes.reduce(0) { $0 + $1.usedBytes }
        #expect(total == store.heldPartitions().reduce(0) { $0 + $1.fileBytes })
        for moved in report.moved {
            #expect(!fileExists(moved.fromDirectory + "/app-1/1/" + moved.key.fileName))
            #expect(fileExists(moved.toDirectory + "/app-1/1/" + moved.key.fileName))
        }
        // A demoted file takes appends where it is now.
        let demoted = try #require(report.moved.first).key
        #expect(
            try store.append(demoted, batch: try Self.batch(partition: 0, sequence: 9, codec: .none)) == .stored)
        #expect(try readAll(store, demoted).batches.count == Self.batchesPerFile + 1)
        try store.close()

        // The files are found where they are now after a restart.
        let reopened = try Self.store(tiers)
        let recovered = try reopened.recover()
        #expect(recovered.recovered.count == partitions.count && recovered.skippedPaths.isEmpty)
        for partition in partitions where try key(partition: partition) != demoted {
            #expect(try Self.records(reopened, try key(partition: partition)).raw == raw[partition])
        }
        try reopened.close()
    }

    @Test func demotionIntoAReencodingTierWritesZstandardBatchesThatReadBackIdentical() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        var tiers = Self.tiers(temp, reencode: true)
        tiers.remove(at: 1)  // nvme straight into fsx
        let store = try Self.store(tiers)
        let partitions = UInt32(0)..<16
        let raw = try Self.fill(store, partitions: partitions) { $0 % 2 == 0 ? .none : .lz4 }
        let report = store.demote()
        #expect(!report.moved.isEmpty && report.failedMoves == 0, "\(report)")
        for moved in report.moved {
            #expect(moved.toTier == 1 && moved.reencodedBatches == Self.batchesPerFile, "\(moved)")
            #expect(moved.movedBytes < moved.sourceBytes, "Zstandard made the copy smaller")
            let (records, codecs) = try Self.records(store, moved.key)
            #expect(codecs == [.zstd], "every batch header records the new codec")
            #expect(records == raw[moved.key.partitionId])
        }
        let movedKeys = Set(report.moved.map(\.key))
        for partition in partitions where !movedKeys.contains(try key(partition: partition)) {
            #expect(try Self.records(store, try key(partition: partition)).codecs != [.zstd], "not moved: as written")
        }
        let total = store.volumes.reduce(0) { $0 + $1.usedBytes }
        #expect(total == store.heldPartitions().reduce(0) { $0 + $1.fileBytes }, "re-encoded sizes are accounted")
        try store.close()
    }

    /// A pacer that, on its first call, appends to every file of the first tier (the one being copied among
    /// them): that move must give up, not switch.
    final class AppendingPacer: DemotionPacer {
        let store: DirectoryPartitionStore
        let appended = Mutex<[PartitionFileKey]>([])

        init(store: DirectoryPartitionStore) { self.store = store }

        func admit(bytes: Int) -> Bool {
            appended.withLock { appended in
                guard appended.isEmpty else { return }
                for file in store.files.all() where file.volume === store.volumes[0] {
                    _ = try? store.append(
                        file.key, batch: DemotionTests.batch(partition: 99, sequence: 0, codec: .none))
                    appended.append(file.key)
                }
            }
            return true
        }
    }

    @Test func aFileAppendedToDuringItsCopyStaysWhereItIsWithEveryBatch() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try Self.store(Self.tiers(temp))
        _ = try Self.fill(store, partitions: 0..<7)
        let pacer = AppendingPacer(store: store)
        let report = store.demote(pacer: pacer)
        let appended = pacer.appended.withLock { $0 }
        #expect(appended.count == 5)
        #expect(report.abandonedMoves == 1, "\(report)")
        for k in appended {
            #expect(try readAll(store, k).batches.count == Self.batchesPerFile + 1, "\(k): every batch, wherever it is")
        }
        #expect(TieredStorageScan.files(under: temp.path, suffix: DirectoryPartitionStore.movingSuffix).isEmpty)
        try store.close()
    }

    @Test func busyFilesStayUntilIdleAndAStoppingPacerAbandonsTheMove() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try DirectoryPartitionStore(
            tiers: Self.tiers(temp), config: StoreConfig(flushBufferBytes: 4096, demotionIdleMs: 3_600_000),
            memoryBudget: MemoryBudget(capacityBytes: 64 << 20), logger: quietLogger)
        _ = try Self.fill(store, partitions: 0..<7)
        #expect(store.demote().moved.isEmpty, "files appended to within the idle time stay")
        try store.close()

        let second = try Self.store(Self.tiers(try TempDirectory(in: temp.path)))
        _ = try Self.fill(second, partitions: 0..<7)
        let stopped = second.demote(pacer: StoppingPacer())
        #expect(stopped.stopped && stopped.moved.isEmpty)
        #expect(second.heldPartitions().count == 7)
        try second.close()
    }

    struct StoppingPacer: DemotionPacer {
        func admit(bytes: Int) -> Bool { false }
    }
}

/// Files under a directory tree.
enum TieredStorageScan {
    /// Paths of the regular files under `directory` whose names end with `suffix`.
    static func files(under directory: String, suffix: String) -> [String] {
        guard let entries = try? PosixSystem().listDirectory(path: directory) else { return [] }
        return entries.flatMap { entry -> [String] in
            let path = directory + "/" + entry.name
            if entry.isDirectory { return files(under: path, suffix: suffix) }
            return entry.name.hasSuffix(suffix) ? [path] : []
        }
    }
}
