import SluiceConfig
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceStorage

#if canImport(Glibc)
    import Glibc
#endif

/// The manifest of `ebs` and `fsx` directories: a restart adopts files from it without reading their bytes, a torn
/// record is ignored, a file longer than its entry has only its tail scanned, and compaction survives a failure (or a
/// crash) at each of its steps.
@Suite struct ManifestTests {
    static let config = StoreConfig(flushBufferBytes: 4096, chunkTargetBytes: 16_384)
    static let partitions = UInt32(0)..<12

    static func store(_ directory: String, kind: StorageTierConfig.Kind = .ebs, system: any SystemCalls = PosixSystem())
        throws -> DirectoryPartitionStore
    {
        try DirectoryPartitionStore(
            tiers: [
                StorageTierConfig(
                    kind: kind, directories: [directory], capacityBytes: 1 << 30, fileSystemShare: 1,
                    highWatermarkFraction: 0.9, lowWatermarkFraction: 0.5)
            ], config: config, memoryBudget: MemoryBudget(capacityBytes: 64 << 20), fileSystem: system,
            logger: quietLogger)
    }

    /// Writes batches to every partition and reads each back (a read writes the file out, recording it in the
    /// manifest); returns what was read. The store is left open, as a killed process leaves it.
    static func writeAndRead(_ store: DirectoryPartitionStore) throws -> [PartitionFileKey: ([UInt8], [ChunkInfo])] {
        var seen: [PartitionFileKey: ([UInt8], [ChunkInfo])] = [:]
        for partition in partitions {
            let k = try key(shuffle: 3, partition: partition)
            for sequence in UInt32(0)..<(10 + partition) {
                _ = try store.append(
                    k,
                    batch: makeBatch(
                        mapIndex: sequence % 5, sequence: sequence, payloadBytes: Int(sequence * 331 % 3000) + 1,
                        codec: sequence == 2 ? .none : .lz4))
            }
            let read = try readAll(store, k)
            seen[k] = (read.bytes, read.chunks)
        }
        return seen
    }

    static func expectSame(_ store: DirectoryPartitionStore, _ seen: [PartitionFileKey: ([UInt8], [ChunkInfo])]) throws
    {
        for (k, before) in seen {
            let after = try readAll(store, k)
            #expect(after.bytes == before.0, "\(k)")
            #expect(after.chunks == before.1, "\(k)")
        }
    }

    @Test func aRestartAdoptsEveryFileFromTheManifestWithoutReadingItsBytes() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let seen = try Self.writeAndRead(try Self.store(temp.path))
        let system = FaultInjectingSystem()
        let restarted = try Self.store(temp.path, system: system)
        let report = try restarted.recover()
        #expect(report.recovered.count == Self.partitions.count)
        #expect(report.fromManifest == Self.partitions.count && report.scannedFromStart == 0)
        // The manifest itself is one read; no partition file is read at all.
        #expect(system.count(.pread) <= 2, "\(system.count(.pread)) reads")
        try Self.expectSame(restarted, seen)
        // Appends continue after the adopted prefix and are recorded too.
        let k = try key(shuffle: 3, partition: 0)
        #expect(try restarted.append(k, batch: makeBatch(mapIndex: 1, sequence: 99, payloadBytes: 100)) == .stored)
        let extended = try readAll(restarted, k)

        let scanning = FaultInjectingSystem()
        try PosixSystem().unlink(path: temp.path + "/" + ManifestLog.fileName)
        let scanned = try Self.store(temp.path, system: scanning)
        let scanReport = try scanned.recover()
        #expect(scanReport.scannedFromStart == Self.partitions.count && scanReport.fromManifest == 0)
        #expect(scanning.count(.pread) >= Self.partitions.count * 2, "a full scan reads every batch")
        #expect(try readAll(scanned, k).bytes == extended.bytes)
    }

    @Test func nvmeKeepsNoManifest() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        _ = try Self.writeAndRead(try Self.store(temp.path, kind: .nvme))
        #expect(!fileExists(temp.path + "/" + ManifestLog.fileName))
        let report = try Self.store(temp.path, kind: .nvme).recover()
        #expect(report.scannedFromStart == Self.partitions.count)
    }

    @Test(arguments: ["validBatch", "garbage"])
    func aFileLongerThanItsEntryHasOnlyItsTailScanned(tail: String) throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let seen = try Self.writeAndRead(try Self.store(temp.path))
        let k = try key(shuffle: 3, partition: 4)
        let path = temp.path + "/app-1/3/4-0-p.data"
        let recordedBytes = try fileSize(path)
        let extra = makeBatch(mapIndex: 2, sequence: 500, payloadBytes: 700)
        try appendRaw(tail == "validBatch" ? encoded(extra) : [7, 7, 7, 7, 7, 7, 7], to: path)
        let system = FaultInjectingSystem()
        let store = try Self.store(temp.path, system: system)
        let report = try store.recover()
        #expect(report.fromManifest == Self.partitions.count)
        let after = try readAll(store, k)
        if tail == "validBatch" {
            #expect(after.bytes == seen[k]!.0 + encoded(extra))
            #expect(report.truncatedTails.isEmpty)
        } else {
            #expect(after.bytes == seen[k]!.0)
            #expect(report.truncatedTails.map(\.path) == [path])
            #expect(try fileSize(path) == recordedBytes)
        }
    }

    @Test func aFileShorterThanItsEntryIsScannedFromTheStart() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let seen = try Self.writeAndRead(try Self.store(temp.path))
        let k = try key(shuffle: 3, partition: 5)
        let path = temp.path + "/app-1/3/5-0-p.data"
        let lastChunk = try #require(seen[k]?.1.last)
        let fs = PosixSystem()
        let fd = try fs.open(path: path, flags: O_RDWR, mode: 0)
        try fs.truncate(fd: fd, lengthBytes: lastChunk.offsetBytes)
        fs.close(fd: fd)
        let store = try Self.store(temp.path)
        let report = try store.recover()
        #expect(report.scannedFromStart == 1 && report.fromManifest == Self.partitions.count - 1)
        #expect(try readAll(store, k).bytes == Array(seen[k]!.0.prefix(lastChunk.offsetBytes)))
    }

    @Test func deletedShufflesLeaveTheManifest() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let store = try Self.store(temp.path)
        _ = try Self.writeAndRead(store)
        let manifest = try #require(store.volumes[0].manifest)
        #expect(manifest.entries.count == Self.partitions.count)
        try store.deleteShuffle(applicationId: "app-1", shuffleId: 3)
        #expect(manifest.entries.isEmpty)
        let reopened = try Self.reopen(temp.path)
        #expect(reopened.entries.isEmpty)
    }

    // MARK: - The log itself

    static func chunk(_ index: Int, length: Int) -> ChunkInfo {
        ChunkInfo(
            index: index, offsetBytes: index * 1000, lengthBytes: length, batchCount: 2, mapIndexes: [1, 4],
            hasUncompressed: false)
    }

    /// Writes `records` growing entries to three keys through `log`; returns what the entries must be.
    static func grow(_ log: ManifestLog, records: Int) throws -> [PartitionFileKey: ManifestEntry] {
        var builders: [PartitionFileKey: ChunkIndexBuilder] = [:]
        for record in 0..<records {
            let k = try key(shuffle: 9, partition: UInt32(record % 3))
            var builder = builders[k] ?? ChunkIndexBuilder(chunkTargetBytes: 4000)
            builder.add(mapIndex: UInt32(record % 4), uncompressed: record % 5 == 0, encodedBytes: 700 + record)
            builders[k] = builder
            log.written(k, builder)
        }
        return builders.mapValues { ManifestEntry(chunks: $0.snapshot()) }
    }

    @Test func aFileRemovedRecordDropsOnlyItsEntry() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let log = try Self.reopen(temp.path)
        var expected = try Self.grow(log, records: 9)
        let gone = try key(shuffle: 9, partition: 1)
        log.fileRemoved(gone)
        expected[gone] = nil
        #expect(log.entries == expected)
        #expect(try Self.reopen(temp.path).entries == expected)
    }

    @Test func aTornOrDamagedLastRecordIsIgnored() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let log = try ManifestLog(
            directory: temp.path, fileSystem: PosixSystem(), logger: quietLogger, syncEachRecord: true)
        let expected = try Self.grow(log, records: 30)
        let path = temp.path + "/" + ManifestLog.fileName
        let validBytes = try fileSize(path)
        let next = ManifestRecord.written(
            key: try key(shuffle: 9, partition: 7), firstChunk: 0, chunks: [Self.chunk(0, length: 10)]
        ).framed
        for damage in [Array(next.prefix(next.count - 3)), Array(next.prefix(5))] {
            try appendRaw(damage, to: path)
            let reopened = try Self.reopen(temp.path)
            #expect(reopened.entries == expected)
            #expect(try fileSize(path) == validBytes, "the torn tail is cut off")
        }
        var corrupted = next
        corrupted[corrupted.count - 1] ^= 0xFF
        try appendRaw(corrupted, to: path)
        let reopened = try Self.reopen(temp.path)
        #expect(reopened.entries == expected)
    }

    @Test func compactionKeepsOnlyLiveEntries() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let log = try ManifestLog(
            directory: temp.path, fileSystem: PosixSystem(), logger: quietLogger, syncEachRecord: false,
            compactionMinDeadRecords: 16)
        let expected = try Self.grow(log, records: 200)
        #expect(log.compactionCount > 0)
        #expect(log.recordCount < 40)
        #expect(!fileExists(temp.path + "/" + ManifestLog.temporaryName))
        let reopened = try Self.reopen(temp.path)
        #expect(reopened.entries == expected)
    }

    /// A log (through fault injection) whose next append compacts: 18 appends to three keys leave 15 dead records
    /// of the 16 that start a compaction.
    static func logBeforeCompaction(_ directory: String) throws -> (ManifestLog, FaultInjectingSystem) {
        let system = FaultInjectingSystem()
        let log = try ManifestLog(
            directory: directory, fileSystem: system, logger: quietLogger, syncEachRecord: false,
            compactionMinDeadRecords: 16)
        _ = try grow(log, records: 18)
        #expect(log.compactionCount == 0)
        return (log, system)
    }

    /// The log in `directory` read again through the real system calls.
    static func reopen(_ directory: String) throws -> ManifestLog {
        try ManifestLog(directory: directory, fileSystem: PosixSystem(), logger: quietLogger, syncEachRecord: false)
    }

    /// A compaction step that fails leaves the current log in use, and what was appended after it is kept.
    @Test(arguments: ["openTemporary", "writeTemporary", "fsyncTemporary", "rename"])
    func aCompactionFailingAtAStepKeepsTheLog(step: String) throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let (log, system) = try Self.logBeforeCompaction(temp.path)
        switch step {
        case "openTemporary": system.fail(under: temp.path + "/" + ManifestLog.temporaryName, errno: EIO)
        case "writeTemporary": system.fail(.pwrite, errno: ENOSPC, afterCalls: 1, times: 1)
        case "fsyncTemporary": system.fail(.fsync, errno: EIO, times: 1)
        default: system.fail(.rename, errno: EIO, times: 1)
        }
        // The first of these appends compacts (and fails); the rest go on in the old log.
        let expected = try Self.grow(log, records: 5)
        #expect(log.compactionCount == 0 && log.isEnabled)
        system.heal()
        system.heal(under: temp.path + "/" + ManifestLog.temporaryName)
        #expect(!fileExists(temp.path + "/" + ManifestLog.temporaryName))
        let reopened = try Self.reopen(temp.path)
        #expect(reopened.entries == expected)
    }

    /// A crash mid-compaction leaves a temporary file (partial, or whole but not renamed) beside the old log: the
    /// old log is read and the temporary file removed. A crash after the rename leaves the new log, also whole.
    @Test(arguments: ["partialTemporary", "wholeTemporary"])
    func aCrashMidCompactionLeavesTheOldLog(state: String) throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let log = try Self.reopen(temp.path)
        let expected = try Self.grow(log, records: 25)
        let other = ManifestRecord.written(
            key: try key(shuffle: 9, partition: 8), firstChunk: 0, chunks: [Self.chunk(0, length: 10)]
        ).framed
        try appendRaw(
            state == "partialTemporary" ? Array(other.prefix(6)) : other,
            to: temp.path + "/" + ManifestLog.temporaryName)
        let reopened = try Self.reopen(temp.path)
        #expect(reopened.entries == expected)
        #expect(!fileExists(temp.path + "/" + ManifestLog.temporaryName))
    }

    /// A failure after the rename (the new log cannot be opened) turns the manifest off and removes it: the next
    /// start scans every file instead of trusting a log that stopped.
    @Test func aFailureAfterTheRenameTurnsTheManifestOffAndRemovesIt() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let (log, system) = try Self.logBeforeCompaction(temp.path)
        // Compaction opens the temporary file, the directory (to fsync it), then the new log: that third one fails.
        system.fail(.open, errno: EIO, afterCalls: 2, times: 1)
        _ = try Self.grow(log, records: 19)
        #expect(!log.isEnabled)
        #expect(!fileExists(temp.path + "/" + ManifestLog.fileName))
    }
}
