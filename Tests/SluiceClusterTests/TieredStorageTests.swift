import Logging
import SluiceClient
import SluiceConfig
import SluiceCore
import SluiceSystem
import SluiceTestKit
import SluiceWorker
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Workers with tiers: a shuffle larger than the fastest tier overflows into the next one (full files answer a
/// hard split, the client moves the partition, the new file goes where there is room) and every byte reads back.
@Suite struct TieredStorageTests {
    static let winner: @Sendable (UInt32) -> UInt64 = { 500 + UInt64($0) }

    /// Partition files under `directory`, recursively.
    static func dataFiles(under directory: String) -> Int {
        guard let entries = try? PosixSystem().listDirectory(path: directory) else { return 0 }
        return entries.reduce(0) { count, entry in
            if entry.isDirectory { return count + dataFiles(under: directory + "/" + entry.name) }
            return count + (entry.name.hasSuffix(".data") ? 1 : 0)
        }
    }

    @Test func aShuffleLargerThanTheFastestTierOverflowsIntoTheNextAndReadsBack() throws {
        let cluster = try MiniCluster(workers: 0)
        defer { cluster.shutdown() }
        var tierDirectories: [(nvme: String, ebs: String)] = []
        for index in 0..<2 {
            let nvme = cluster.scratch.file("w\(index)-nvme")
            let ebs = cluster.scratch.file("w\(index)-ebs")
            tierDirectories.append((nvme, ebs))
            try cluster.addWorker(
                index: index,
                overrides: [
                    "worker.tiers":
                        "kind=nvme dirs=\(nvme) capacity=32k high=0.5 low=0.25; kind=ebs dirs=\(ebs) capacity=256m"
                ])
        }
        try waitUntil("workers registered") { cluster.workers.allSatisfy(\.isRegistered) }
        let client = cluster.client(codec: .none)
        defer { client.close() }
        var data = ShuffleData(mappers: 10, partitions: 16)
        data.bigRecordBytes = 20_000
        let key = ShuffleKey(applicationId: "app-tiers", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: data.mappers, numPartitions: data.partitions)
        _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)

        for (nvme, ebs) in tierDirectories {
            #expect(Self.dataFiles(under: nvme) > 0, "the fastest tier took files")
            #expect(Self.dataFiles(under: ebs) > 0, "the overflow went to the next tier")
        }
        let wrong = try data.mismatches(reader: client.reader(key), attemptId: Self.winner)
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
        // Heartbeats carry room per tier, which the master places by.
        try waitUntil("heartbeats report each tier's room after the writes") {
            cluster.master.snapshot.workers.values.allSatisfy { worker in
                worker.tiers.map(\.kind) == ["nvme", "ebs"] && worker.tiers[0].freeBytes < worker.tiers[0].capacityBytes
                    && worker.tiers[1].freeBytes < worker.tiers[1].capacityBytes
            }
        }
        #expect(
            cluster.master.snapshot.workers.values.allSatisfy {
                $0.tiers.map(\.capacityBytes) == [32 << 10, 256 << 20]
            })
    }

    /// With `worker.idleFlushTime`, what a worker acknowledged reaches its files once the shuffle goes quiet, without
    /// a read or a full buffer: a process crash then takes nothing the files lack (the check compares the bytes the
    /// worker counts as appended with the bytes in its files on disk).
    @Test func aQuietShuffleIsWrittenOutWithoutARead() throws {
        let cluster = try MiniCluster(workers: 0)
        defer { cluster.shutdown() }
        for index in 0..<2 { try cluster.addWorker(index: index, overrides: ["worker.idleFlushTime": "50ms"]) }
        try waitUntil("workers registered") { cluster.workers.allSatisfy(\.isRegistered) }
        let client = cluster.client(codec: .lz4, replicate: false)
        defer { client.close() }
        let data = ShuffleData(mappers: 4, partitions: 8)
        let key = ShuffleKey(applicationId: "app-quiet", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: data.mappers, numPartitions: data.partitions)
        _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)
        // What each worker counts as appended, buffered or not.
        let appended = try cluster.workers.map { try StorageFiles.appendedBytes(httpPort: try #require($0.httpPort)) }
        #expect(appended.reduce(0, +) > 0)
        try waitUntil("every appended byte is in the files on disk") {
            (0..<2).allSatisfy {
                StorageFiles.dataFileBytes(under: cluster.scratch.file("worker-\($0)")) == appended[$0]
            }
        }
        let wrong = try data.mismatches(reader: client.reader(key), attemptId: Self.winner)
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }

    @Test func aWorkerWithNoWritableTierDoesNotStart() throws {
        let scratch = try TempDirectory()
        defer { scratch.remove() }
        let blocker = scratch.file("a-file")
        let fd = open(blocker, O_CREAT | O_WRONLY, 0o644)
        try #require(fd >= 0)
        close(fd)
        let config = try WorkerConfig.load(overrides: [
            "worker.tiers": "kind=nvme dirs=\(blocker)/nvme; kind=ebs dirs=\(blocker)/ebs", "worker.port": "0",
        ])
        let error = #expect(throws: (any Error).self) { _ = try WorkerServer(config: config, logger: quietLogger) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("no writable storage directory"))
    }
}

/// A disk of a worker fails in the middle of a shuffle, in each way a disk fails (every call failing with EIO or
/// ENOSPC, writes refused as on a volume remounted read-only, ENOSPC in the middle of a write, reads failing with
/// EIO, calls that stop returning): pushes move to healthy directories and workers, reads of the failed directory's
/// files fail over to the replica, and no acknowledged batch is lost.
@Suite struct DirectoryFailureTests {
    static let winner: @Sendable (UInt32) -> UInt64 = { 900 + UInt64($0) }

    /// Three workers with two disks each, worker-0's through `disk`; a failed disk is not probed again during a
    /// test, and a call that has not returned after 200 ms marks its disk stalled.
    static func cluster(disk: FaultInjectingSystem) throws -> MiniCluster {
        let cluster = try MiniCluster(workers: 0)
        for index in 0..<3 {
            let dirs = "\(cluster.scratch.file("w\(index)-a")),\(cluster.scratch.file("w\(index)-b"))"
            try cluster.addWorker(
                index: index,
                overrides: [
                    "worker.tiers": "kind=nvme dirs=\(dirs)",
                    "worker.storageProbeInterval": "1h",
                    "worker.storageStallTimeout": "200ms",
                ],
                system: index == 0 ? disk : PosixSystem())
        }
        try waitUntil("workers registered") { cluster.workers.allSatisfy(\.isRegistered) }
        return cluster
    }

    /// Twelve maps of twenty-four partitions, with large records among the small ones.
    static let data: ShuffleData = {
        var data = ShuffleData(mappers: 12, partitions: 24)
        data.bigRecordBytes = 100_000
        return data
    }()

    /// How worker-0's first disk fails.
    enum Fault: Sendable, CustomTestStringConvertible {
        /// Every file call under it fails with the errno.
        case everyCall(Int32)
        /// Writes, fsyncs and mkdirs fail with EROFS; opening and reading work.
        case readOnly
        /// Writes go through 4 KiB at a time, then fail with ENOSPC part-way through a batch.
        case noSpaceMidWrite
        /// Reads (pread, sendfile) fail with EIO once the data is written; writes work.
        case readErrors
        /// Calls under it block until the end of the test.
        case stall

        var testDescription: String {
            switch self {
            case .everyCall(let errno): "every call fails with errno \(errno)"
            case .readOnly: "read-only"
            case .noSpaceMidWrite: "ENOSPC mid-write"
            case .readErrors: "EIO on read"
            case .stall: "stalled"
            }
        }
    }

    @Test(arguments: [Fault.everyCall(EIO), .everyCall(ENOSPC), .readOnly, .noSpaceMidWrite, .readErrors, .stall])
    func aDiskFailingMidShuffleLosesNothing(fault: Fault) throws {
        let disk = FaultInjectingSystem()
        if case .noSpaceMidWrite = fault { disk.limitTransfer(.pwrite, toBytes: 4096) }
        let cluster = try Self.cluster(disk: disk)
        defer { cluster.shutdown() }
        // A push stuck behind a stalled write is abandoned by the client after this and moved elsewhere.
        let client = cluster.client(codec: .lz4, requestTimeoutMs: 3_000)
        defer { client.close() }
        let data = Self.data
        let key = ShuffleKey(applicationId: "app-disk-\(abs(fault.testDescription.hashValue) % 100_000)", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: data.mappers, numPartitions: data.partitions)
        _ = try data.writeAll(client: client, handle: handle, maps: Array(0..<6), attemptId: Self.winner)
        let failing = cluster.scratch.file("w0-a")
        try #require(TieredStorageTests.dataFiles(under: failing) > 0, "worker-0's first disk holds files")
        switch fault {
        case .everyCall(let errno): disk.fail(under: failing, errno: errno)
        case .readOnly: disk.fail(under: failing, errno: EROFS, calls: [.pwrite, .fsync, .mkdir, .truncate])
        case .noSpaceMidWrite: disk.fail(under: failing, errno: ENOSPC, calls: [.pwrite])
        case .readErrors: break
        case .stall: disk.stall(under: failing)
        }
        defer { disk.heal(under: failing) }
        _ = try data.writeAll(client: client, handle: handle, maps: Array(6..<12), attemptId: Self.winner)
        if case .readErrors = fault { disk.fail(under: failing, errno: EIO, calls: [.pread, .sendfile]) }
        let reader = client.reader(key)
        let wrong = try data.mismatches(reader: reader, attemptId: Self.winner)
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
        #expect(reader.failovers > 0, "files on the failed disk were read from their other copy")
        if case .stall = fault {
            #expect(disk.stalledCallCount > 0, "calls were still stuck in the stalled directory")
        }
    }

    /// A disk that stops answering at a seeded file call of the push (an open, a write, an fsync, a flush for a
    /// reader...), not at a quiet moment between two halves of it: every record still reads back.
    @Test(arguments: Array(KillSeeds.all.prefix(6)))
    func aDiskStallingAtASeededCallLosesNothing(seed: UInt64) throws {
        let disk = FaultInjectingSystem()
        let cluster = try Self.cluster(disk: disk)
        defer { cluster.shutdown() }
        let client = cluster.client(codec: .lz4, requestTimeoutMs: 3_000)
        defer { client.close() }
        let failing = cluster.scratch.file("w0-a")
        var generator = SeededGenerator(seed: seed)
        let afterCalls = Int.random(in: 1...60, using: &generator)
        disk.stall(under: failing, afterCalls: afterCalls)
        defer { disk.heal(under: failing) }
        let key = ShuffleKey(applicationId: "app-stall-\(seed)", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: Self.data.mappers, numPartitions: Self.data.partitions)
        _ = try Self.data.writeAll(client: client, handle: handle, attemptId: Self.winner)
        let wrong = try Self.data.mismatches(reader: client.reader(key), attemptId: Self.winner)
        #expect(wrong.isEmpty, "stall from call \(afterCalls): \(wrong.prefix(5))")
        #expect(disk.stalledCallCount > 0, "the stall began (at call \(afterCalls) under the disk)")
    }
}
