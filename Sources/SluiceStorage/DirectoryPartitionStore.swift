import Logging
import SluiceConfig
import SluiceCore
import SluiceSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A `PartitionStore` over tiers of directories (`Volume`s), each file at
/// `<dir>/<applicationId>/<shuffleId>/<partitionId>-<epoch>-<p|r>.data`. A new file goes to the fastest tier with
/// room (`VolumePlacement`); its files are registered in a `FileTable`, where appends and reads both find them.
public final class DirectoryPartitionStore: PartitionStore {
    /// The store's tunables.
    public let config: StoreConfig

    let memoryBudget: MemoryBudget
    let fileSystem: any SystemCalls
    let logger: Logger
    /// Every writable directory, fastest tier first.
    let volumes: [Volume]
    /// Directories refused at start-up, with the reason.
    public let refusedDirectories: [(path: String, reason: StorageError)]
    let placement: VolumePlacement
    let files: FileTable
    private let closed = Atomic<Bool>(false)
    let flushBuffers: FlushBufferPool
    /// Which directories are being emptied down to their low watermark (see `DirectoryPartitionStore+Demotion`).
    let demotion = DemotionState()
    /// The folder this worker writes under in each `fsx` directory (`<dir>/<folder>`), nil to write in the
    /// directory itself. See `SharedFolders.swift`.
    let ownFolder: String?
    /// Lost workers' `fsx` folders this store adopted (read-only; never placed on).
    let adoptedVolumes = Mutex<[Volume]>([])

    /// The first directory of the fastest tier.
    public var rootDirectory: String { volume.path }

    /// The first directory of the fastest tier (what a one-directory store has).
    var volume: Volume { volumes[0] }

    /// Opens (creating when missing) a store in `rootDirectory`: one nvme tier with the registry's defaults.
    /// Call `recover()` before serving to pick up files a previous run left.
    /// - Parameters:
    ///   - memoryBudget: flush buffers are accounted here.
    ///   - fileSystem: the system calls to use (tests inject failures).
    public convenience init(
        rootDirectory: String, config: StoreConfig, memoryBudget: MemoryBudget,
        fileSystem: any SystemCalls = PosixSystem(),
        logger: Logger = Logger(label: "sluice.storage"), shardCount: Int = 32
    ) throws(StorageError) {
        let tier: StorageTierConfig
        do {
            tier = try StorageTierConfig.single(directory: rootDirectory)
        } catch {
            throw StorageError(.invalidKey, message: "\(error)", path: rootDirectory)
        }
        try self.init(
            tiers: [tier], config: config, memoryBudget: memoryBudget, fileSystem: fileSystem,
            logger: logger, shardCount: shardCount)
    }

    /// Opens (creating when missing) every directory of `tiers`, fastest first. A directory that cannot be
    /// written is refused (logged, listed in `refusedDirectories`) and the others serve.
    /// - Parameters:
    ///   - sharedFolder: the worker's own folder in each `fsx` directory (its id, made safe as a file name); nil
    ///     writes in the directories themselves, and no other worker can adopt the files.
    /// - Throws: `.ioError` when no directory of any tier is writable.
    public init(
        tiers: [StorageTierConfig], config: StoreConfig, memoryBudget: MemoryBudget,
        fileSystem: any SystemCalls = PosixSystem(),
        logger: Logger = Logger(label: "sluice.storage"), shardCount: Int = 32, sharedFolder: String? = nil
    ) throws(StorageError) {
        self.config = config
        let folder = sharedFolder.map(Self.folderName)
        ownFolder = folder
        self.memoryBudget = memoryBudget
        self.fileSystem = fileSystem
        self.logger = logger
        var volumes: [Volume] = []
        var refused: [(path: String, reason: StorageError)] = []
        for (tierIndex, tier) in tiers.enumerated() {
            for directory in tier.directories {
                do {
                    volumes.append(
                        try Volume(
                            path: Self.volumePath(directory, kind: tier.kind, folder: folder), tierIndex: tierIndex,
                            tier: tier, recycledFilesMax: config.recycledFilesMax,
                            stallTimeoutMs: config.stallTimeoutMs, fileSystem: fileSystem, logger: logger,
                            syncManifest: config.fsyncOnFlush))
                } catch {
                    logger.error(
                        "storage directory refused",
                        metadata: [
                            "storage.dir": "\(directory)", "tier.kind": "\(tier.kind.rawValue)", "error": "\(error)",
                        ])
                    refused.append((directory, error))
                }
            }
        }
        guard !volumes.isEmpty else {
            let reasons = refused.map { "\($0.path): \($0.reason)" }.joined(separator: "; ")
            throw StorageError(
                .ioError, message: "no writable storage directory (\(reasons))",
                path: tiers.first?.directories.first ?? "")
        }
        self.volumes = volumes
        refusedDirectories = refused
        placement = VolumePlacement(volumes: volumes, probeIntervalMs: config.healthProbeIntervalMs)
        files = FileTable(shardCount: shardCount)
        flushBuffers = FlushBufferPool(
            bufferCapacityBytes: config.flushBufferBytes,
            maxPooledBytes: config.flushBufferPoolBytes)
    }

    /// Deleted partition files waiting (emptied) in the recycled-file pool.
    public var recycledFileCount: Int { volumes.reduce(0) { $0 + $1.recycler.count } }

    /// Fills the recycled-file pool of every fastest-tier directory with `config.spareFilesAtStart` empty files, so
    /// the first shuffles after start take files instead of allocating inodes on the push path (on ext4 a create
    /// soon after mass deletions scans every recently deleted inode: see `FileRecycler`). Stops early when the
    /// store closes. Meant for a background thread at start; appends may run meanwhile.
    /// - Returns: the files created.
    @discardableResult
    public func createSpareFiles() -> Int {
        guard let fastest = volumes.first?.tierIndex else { return 0 }
        return volumes.filter { $0.tierIndex == fastest }.reduce(0) { created, volume in
            created + volume.recycler.fill(upTo: config.spareFilesAtStart) { closed.load(ordering: .relaxed) }
        }
    }

    /// Writes out flush buffers, largest first, until the memory budget's use is at most `targetBytes` or no
    /// buffer is left. Flush buffers fill only when more data arrives; under memory pressure push connections stop
    /// being read, so without this the buffered bytes would hold the budget above its high watermark forever.
    /// - Returns: the bytes written out.
    @discardableResult
    public func relieveMemoryPressure(downToBytes targetBytes: Int) -> Int {
        guard memoryBudget.usedBytes > targetBytes else { return 0 }
        // Largest charge first: a pooled buffer holds its whole capacity of the budget, however little it buffers.
        let buffered = files.all().map { (writer: $0, charged: $0.chargedBytes, bytes: $0.bufferedBytes) }
            .filter { $0.charged > 0 }.sorted { $0.charged > $1.charged }
        var writtenBytes = 0
        for (writer, _, bytes) in buffered {
            guard memoryBudget.usedBytes > targetBytes else { break }
            writtenBytes += writeOut(writer, bufferedBytes: bytes, why: "memory pressure")
        }
        return writtenBytes
    }

    /// Flushes one file for `why`; returns `bufferedBytes` when it worked, 0 (logged) when it failed.
    private func writeOut(_ file: PartitionFile, bufferedBytes: Int, why: String) -> Int {
        do {
            try file.flush()
            return bufferedBytes
        } catch {
            logger.error(
                "flush failed", metadata: ["path": "\(file.path)", "reason": "\(why)", "error": "\(error)"])
            return 0
        }
    }

    /// Writes out the buffers of files with no append for `idleForMs` (fdatasync when `fsyncOnFlush`), so what a
    /// quiet file acknowledged does not wait in memory for the next append, a reader or memory pressure: a process
    /// crash then takes at most the last moments' batches from this copy.
    /// - Returns: the bytes written out.
    @discardableResult
    public func flushIdleFiles(idleForMs: Int) -> Int {
        let nowMs = Monotonic.nowMs()
        var writtenBytes = 0
        for file in files.all() {
            let bytes = file.bufferedBytes
            guard bytes > 0, nowMs >= file.lastAppendMs.load(ordering: .relaxed) + UInt64(max(idleForMs, 0)) else {
                continue
            }
            writtenBytes += writeOut(file, bufferedBytes: bytes, why: "idle")
        }
        return writtenBytes
    }

    // MARK: - PartitionStore

    /// Appends a batch to the key's file, creating the file (and its directories) on first use.
    /// A batch for a file whose directory is full or unhealthy, or whose write fails on the file system now, is
    /// refused with a hard split: the client moves the partition to a new file (placed where there is room and
    /// the disk works) without blaming this worker. Batches the failed file had acknowledged but not yet written
    /// are lost on this copy only: the file refuses readers (`ReadableFile.writerFailure`), who read the replica.
    public func append(_ key: PartitionFileKey, batch: Batch) throws(StorageError) -> AppendOutcome {
        let file = try writer(for: key, create: true)
        let batchBytes = batch.encodedByteCount
        guard file.volume.isHealthy, file.volume.hasRoom(for: batchBytes) else { return .refusedHardSplit }
        do {
            return try file.append(batch)  // counts the bytes against its directory
        } catch  where error.isFileSystemFailure {
            return .refusedHardSplit
        }
    }

    /// Writes the key's buffered bytes out; fdatasync when `fsyncOnFlush`.
    public func flush(_ key: PartitionFileKey) throws(StorageError) {
        try writer(for: key, create: false).flush()
    }

    /// Flushes the key's file and opens it for reading with the chunks holding a map in `startMapIndex..<endMapIndex`.
    public func openForRead(
        _ key: PartitionFileKey, startMapIndex: UInt32 = 0,
        endMapIndex: UInt32 = .max
    ) throws(StorageError) -> ReadableFile {
        let writer = try writer(for: key, create: false)
        // The flush below would wait behind the stalled call: send the reader to the other copy at once.
        if writer.volume.isStalled {
            writer.volume.markUnhealthy(writer.volume.stallError())
            throw StorageError(
                .ioError, errno: ETIMEDOUT, message: "storage directory stalled; read another copy", path: writer.path)
        }
        // The reader is counted before the descriptor exists: a delete that closes the writer after this point sees
        // the reader and unlinks the file instead of recycling it (a recycled file would be emptied and reused under
        // it). A demoted file is unlinked, never recycled, so a reader of its old copy finishes from it.
        let snapshot = try writer.openSnapshot()
        let readers = snapshot.readers
        let path = snapshot.path
        let selected = snapshot.chunks.filter { $0.containsMap(from: startMapIndex, to: endMapIndex) }
        return ReadableFile(
            key: key, path: path, fd: snapshot.fd, chunks: selected,
            totalChunkCount: snapshot.chunks.count, fileBytes: snapshot.fileBytes,
            writerFailure: snapshot.failure, fileSystem: fileSystem,
            onClose: { readers.closed(path) })
    }

    /// A chunk of a directory file is a range of it: sent with sendfile, or read with `pread`.
    public func chunkSource(_ file: ReadableFile, chunk: ChunkInfo) throws(StorageError) -> ChunkSource {
        .fileRange(fd: file.fd, offsetBytes: chunk.offsetBytes, lengthBytes: chunk.lengthBytes)
    }

    /// Closes and deletes every file of a shuffle (held or not) and removes its directory. Deleted files are
    /// emptied into the recycled-file pool while it has room, else unlinked.
    @discardableResult
    public func deleteShuffle(applicationId: String, shuffleId: UInt32) throws(StorageError) -> Int {
        try PartitionFileKey.validateApplicationId(applicationId)
        release(files.remove { $0.applicationId == applicationId && $0.shuffleId == shuffleId })
        var deletedFiles = 0
        var firstError: StorageError?
        for volume in volumes + adoptedVolumes.withLock({ $0 }) {
            let error = volume.deleteShuffle(
                applicationId: applicationId, shuffleId: shuffleId,
                deletedFiles: &deletedFiles)
            volume.manifest?.shuffleRemoved(applicationId: applicationId, shuffleId: shuffleId)
            firstError = firstError ?? error
        }
        logger.info(
            "deleted shuffle files",
            metadata: [
                "application.id": "\(applicationId)", "shuffle.id": "\(shuffleId)", "files": "\(deletedFiles)",
            ])
        if let firstError { throw firstError }
        return deletedFiles
    }

    /// Closes and unlinks every file of an application and removes its directories.
    @discardableResult
    public func deleteApplication(applicationId: String) throws(StorageError) -> Int {
        try PartitionFileKey.validateApplicationId(applicationId)
        release(files.remove { $0.applicationId == applicationId })
        var deletedFiles = 0
        var firstError: StorageError?
        for volume in volumes + adoptedVolumes.withLock({ $0 }) {
            firstError =
                firstError ?? volume.deleteApplication(applicationId: applicationId, deletedFiles: &deletedFiles)
            volume.manifest?.applicationRemoved(applicationId: applicationId)
        }
        logger.info(
            "deleted application files", metadata: ["application.id": "\(applicationId)", "files": "\(deletedFiles)"])
        if let firstError { throw firstError }
        return deletedFiles
    }

    /// Every held file with its size, sorted by key.
    public func heldPartitions() -> [HeldPartitionFile] {
        files.all()
            .map { HeldPartitionFile(key: $0.key, fileBytes: $0.fileBytes, isFailed: $0.failure != nil) }
            .sorted { Self.sortsBefore($0.key, $1.key) }
    }

    /// Every shuffle with a held file, sorted.
    public func heldShuffles() -> [ShuffleKey] {
        Set(files.all().map(\.key.shuffle)).sorted()
    }

    /// Room for shuffle data over every directory: each one's capacity, and what it can still take (under its
    /// capacity and within its file system's free space). What the worker reports and the master places by.
    /// An unhealthy directory counts its capacity but no free bytes: it takes no new files.
    public func diskSpace() throws(StorageError) -> DiskSpace {
        var space = DiskSpace(freeBytes: 0, capacityBytes: 0)
        for volume in volumes {
            if volume.isHealthy { space.freeBytes += try volume.roomBytes() }
            space.capacityBytes += volume.capacityBytes
        }
        return space
    }

    /// Room per tier, fastest first: over each tier's healthy directories, what they can still take; a directory
    /// whose free space cannot be measured counts none. What the worker's heartbeat reports.
    public func tierSpace() -> [TierSpace] {
        var tiers: [TierSpace] = []
        var lastTierIndex = -1
        for volume in volumes {
            if volume.tierIndex != lastTierIndex {
                tiers.append(TierSpace(kind: volume.kind.rawValue, freeBytes: 0, capacityBytes: 0))
                lastTierIndex = volume.tierIndex
            }
            let roomBytes = volume.isHealthy ? ((try? volume.roomBytes()) ?? 0) : 0
            tiers[tiers.count - 1].freeBytes += UInt64(roomBytes)
            tiers[tiers.count - 1].capacityBytes += UInt64(max(volume.capacityBytes, 0))
        }
        return tiers
    }

    /// Marks every directory with a stalled call unhealthy. Called every few milliseconds by the worker, so appends
    /// (which only read the health flag) see a stall within a tick of `stallTimeoutMs`.
    public func noticeStalls() {
        for volume in volumes { volume.noticeStall() }
    }

    /// Every directory, fastest tier first, with the files it holds now (stalls noticed first).
    public func directories() -> [StorageDirectoryStatus] {
        noticeStalls()
        var fileCounts: [ObjectIdentifier: Int] = [:]
        for file in files.all() { fileCounts[ObjectIdentifier(file.volume), default: 0] += 1 }
        return volumes.map {
            StorageDirectoryStatus(
                path: $0.path, tier: $0.tierIndex, kind: $0.kind.rawValue,
                capacityBytes: $0.capacityBytes, usedBytes: $0.usedBytes, healthy: $0.isHealthy,
                files: fileCounts[ObjectIdentifier($0)] ?? 0, failures: $0.failureCount)
        }
    }

    /// Writes every file out, closes them and refuses further calls; throws the first failure.
    public func close() throws(StorageError) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let writers = files.remove { _ in true }
        var firstError: StorageError?
        for writer in writers {
            do {
                try writer.close()
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Discards removed files and takes their bytes off their directories' use.
    private func release(_ removed: [PartitionFile]) {
        for file in removed {
            if let held = file.discard() { held.volume.account(-held.bytes) }
        }
    }

    /// The writer of one file (internal: tests and recovery inspect it).
    func existingWriter(_ key: PartitionFileKey) -> PartitionFile? { files.file(key) }

    private func writer(for key: PartitionFileKey, create: Bool) throws(StorageError) -> PartitionFile {
        guard !closed.load(ordering: .acquiring) else {
            throw StorageError(.closed, message: "partition store is closed", path: rootDirectory)
        }
        guard create else {
            guard let file = files.file(key) else {
                throw StorageError(
                    .unknownPartition, message: "no file for partition \(key)",
                    path: volume.filePath(key))
            }
            return file
        }
        return try files.file(key) { () throws(StorageError) -> PartitionFile in
            let (volume, path, fd) = try createPlaced(key)
            return PartitionFile(
                key: key, path: path, volume: volume, fd: fd, config: config,
                memoryBudget: memoryBudget,
                flushBuffers: flushBuffers, fileSystem: fileSystem, logger: logger)
        }
    }

    /// Creates the key's file where placement says; a directory whose create fails on the file system is marked
    /// unhealthy and placement asks again, once per directory at most.
    private func createPlaced(_ key: PartitionFileKey) throws(StorageError) -> (Volume, String, Int32) {
        var lastFailure: StorageError?
        for _ in volumes.indices {
            let volume = try placement.volumeForNewFile(key)
            do {
                let (path, fd) = try volume.createFile(key)
                return (volume, path, fd)
            } catch  where error.isFileSystemFailure {
                volume.markUnhealthy(error)
                lastFailure = error
            }
        }
        throw lastFailure ?? StorageError(.noSpace, message: "no storage directory took partition \(key)")
    }

    private static func sortsBefore(_ a: PartitionFileKey, _ b: PartitionFileKey) -> Bool {
        (a.applicationId, a.shuffleId, a.partitionId, a.epoch, a.role.rawValue)
            < (b.applicationId, b.shuffleId, b.partitionId, b.epoch, b.role.rawValue)
    }
}
