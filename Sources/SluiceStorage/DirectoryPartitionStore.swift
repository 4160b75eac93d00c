#if canImport(Glibc)
import Glibc
#endif
import Logging
import SluiceCore
import SluiceSystem
import Synchronization

/// A `PartitionStore` in one directory: `<root>/<applicationId>/<shuffleId>/<partitionId>-<epoch>-<p|r>.data`.
/// Writers live in a sharded map, so appends to different files rarely meet on a lock.
public final class DirectoryPartitionStore: PartitionStore {
    /// The store's directory.
    public let rootDirectory: String
    /// The store's tunables.
    public let config: StoreConfig

    let memoryBudget: MemoryBudget
    let fileSystem: any SystemCalls
    let logger: Logger
    private let shards: [WriterShard]
    private let closed = Atomic<Bool>(false)
    let recycler: FileRecycler
    let flushBuffers: FlushBufferPool
    let openReaders = OpenReaderCounts()

    /// Opens (creating when missing) a store in `rootDirectory`. Call `recover()` before serving to pick up
    /// files a previous run left.
    /// - Parameters:
    ///   - memoryBudget: flush buffers are accounted here.
    ///   - fileSystem: the system calls to use (tests inject failures).
    public init(rootDirectory: String, config: StoreConfig, memoryBudget: MemoryBudget,
                fileSystem: any SystemCalls = PosixSystem(),
                logger: Logger = Logger(label: "sluice.storage"), shardCount: Int = 32) throws(StorageError) {
        var root = rootDirectory
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        guard !root.isEmpty else { throw StorageError(.invalidKey, message: "empty root directory") }
        self.rootDirectory = root
        self.config = config
        self.memoryBudget = memoryBudget
        self.fileSystem = fileSystem
        self.logger = logger
        shards = (0..<max(shardCount, 1)).map { _ in WriterShard() }
        recycler = FileRecycler(root: root, capacity: config.recycledFilesMax, fileSystem: fileSystem, logger: logger)
        flushBuffers = FlushBufferPool(bufferCapacityBytes: config.flushBufferBytes,
                                       maxPooledBytes: config.flushBufferPoolBytes)
        try makeDirectories(root)
        recycler.open()
    }

    /// Deleted partition files waiting (emptied) in the recycled-file pool.
    public var recycledFileCount: Int { recycler.count }

    /// Writes out flush buffers, largest first, until the memory budget's use is at most `targetBytes` or no
    /// buffer is left. Flush buffers fill only when more data arrives; under memory pressure push connections stop
    /// being read, so without this the buffered bytes would hold the budget above its high watermark forever.
    /// - Returns: the bytes written out.
    @discardableResult
    public func relieveMemoryPressure(downToBytes targetBytes: Int) -> Int {
        guard memoryBudget.usedBytes > targetBytes else { return 0 }
        // Largest charge first: a pooled buffer holds its whole capacity of the budget, however little it buffers.
        let buffered = allWriters().map { (writer: $0, charged: $0.chargedBytes, bytes: $0.bufferedBytes) }
            .filter { $0.charged > 0 }.sorted { $0.charged > $1.charged }
        var writtenBytes = 0
        for (writer, _, bytes) in buffered {
            guard memoryBudget.usedBytes > targetBytes else { break }
            do {
                try writer.flush()
                writtenBytes += bytes
            } catch {
                logger.error("pressure flush failed", metadata: ["path": "\(writer.path)", "error": "\(error)"])
            }
        }
        return writtenBytes
    }

    // MARK: - PartitionStore

    /// Appends a batch to the key's file, creating the file (and its directories) on first use.
    public func append(_ key: PartitionFileKey, batch: Batch) throws(StorageError) -> AppendOutcome {
        try writer(for: key, create: true).append(batch)
    }

    /// Writes the key's buffered bytes out; fdatasync when `fsyncOnFlush`.
    public func flush(_ key: PartitionFileKey) throws(StorageError) {
        try writer(for: key, create: false).flush()
    }

    /// Flushes the key's file and opens it for reading with the chunks holding a map in `startMapIndex..<endMapIndex`.
    public func openForRead(_ key: PartitionFileKey, startMapIndex: UInt32 = 0,
                            endMapIndex: UInt32 = .max) throws(StorageError) -> ReadableFile {
        let writer = try writer(for: key, create: false)
        // Counted before the descriptor exists: a delete that closes the writer after this point sees the reader
        // and unlinks the file instead of recycling it (a recycled file would be emptied and reused under it).
        let readers = openReaders
        let path = writer.path
        readers.opened(path)
        let snapshot: (fd: Int32, chunks: [ChunkInfo], fileBytes: Int, failure: StorageError?)
        do throws(StorageError) {
            snapshot = try writer.openSnapshot()
        } catch {
            readers.closed(path)
            throw error
        }
        let selected = snapshot.chunks.filter { $0.containsMap(from: startMapIndex, to: endMapIndex) }
        return ReadableFile(key: key, path: path, fd: snapshot.fd, chunks: selected,
                            totalChunkCount: snapshot.chunks.count, fileBytes: snapshot.fileBytes,
                            writerFailure: snapshot.failure, fileSystem: fileSystem,
                            onClose: { readers.closed(path) })
    }

    /// Reads one chunk of an open file with `pread`.
    public func readChunk(_ file: ReadableFile, chunk: ChunkInfo) throws(StorageError) -> [UInt8] {
        try file.readChunk(chunk)
    }

    /// Closes and deletes every file of a shuffle (held or not) and removes its directory. Deleted files are
    /// emptied into the recycled-file pool while it has room, else unlinked.
    @discardableResult
    public func deleteShuffle(applicationId: String, shuffleId: UInt32) throws(StorageError) -> Int {
        try PartitionFileKey.validateApplicationId(applicationId)
        let removed = removeWriters { $0.applicationId == applicationId && $0.shuffleId == shuffleId }
        for writer in removed { writer.discard() }
        var deletedFiles = 0
        let directory = shuffleDirectory(applicationId: applicationId, shuffleId: shuffleId)
        let firstError = removeTree(directory, deletedFiles: &deletedFiles)
        logger.info("deleted shuffle files", metadata: [
            "application.id": "\(applicationId)", "shuffle.id": "\(shuffleId)", "files": "\(deletedFiles)",
        ])
        if let firstError { throw firstError }
        return deletedFiles
    }

    /// Closes and unlinks every file of an application and removes its directories.
    @discardableResult
    public func deleteApplication(applicationId: String) throws(StorageError) -> Int {
        try PartitionFileKey.validateApplicationId(applicationId)
        let removed = removeWriters { $0.applicationId == applicationId }
        for writer in removed { writer.discard() }
        var deletedFiles = 0
        let firstError = removeTree(rootDirectory + "/" + applicationId, deletedFiles: &deletedFiles)
        logger.info("deleted application files", metadata: ["application.id": "\(applicationId)", "files": "\(deletedFiles)"])
        if let firstError { throw firstError }
        return deletedFiles
    }

    /// Every held file with its size, sorted by key.
    public func heldPartitions() -> [HeldPartitionFile] {
        allWriters()
            .map { HeldPartitionFile(key: $0.key, fileBytes: $0.fileBytes, isFailed: $0.failure != nil) }
            .sorted { Self.sortsBefore($0.key, $1.key) }
    }

    /// Every shuffle with a held file, sorted.
    public func heldShuffles() -> [ShuffleKey] {
        Set(allWriters().map(\.key.shuffle)).sorted()
    }

    /// statvfs of the root directory.
    public func diskSpace() throws(StorageError) -> DiskSpace {
        do {
            let space = try fileSystem.spaceBytes(path: rootDirectory)
            return DiskSpace(freeBytes: space.freeBytes, capacityBytes: space.capacityBytes)
        } catch {
            throw StorageError.system(error, operation: "statvfs", path: rootDirectory)
        }
    }

    /// Writes every file out, closes them and refuses further calls; throws the first failure.
    public func close() throws(StorageError) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let writers = removeWriters { _ in true }
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

    /// The writer of one file (internal: tests and recovery inspect it).
    func existingWriter(_ key: PartitionFileKey) -> PartitionWriter? {
        shard(for: key).writers.withLock { $0[key] }
    }

    /// Registers a recovered writer unless one exists.
    func adopt(_ writer: PartitionWriter) -> Bool {
        shard(for: writer.key).writers.withLock { writers in
            guard writers[writer.key] == nil else { return false }
            writers[writer.key] = writer
            return true
        }
    }

    func shuffleDirectory(applicationId: String, shuffleId: UInt32) -> String {
        rootDirectory + "/" + applicationId + "/" + String(shuffleId)
    }

    func filePath(_ key: PartitionFileKey) -> String {
        shuffleDirectory(applicationId: key.applicationId, shuffleId: key.shuffleId) + "/" + key.fileName
    }

    // MARK: - Writers

    private func shard(for key: PartitionFileKey) -> WriterShard {
        shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
    }

    private func writer(for key: PartitionFileKey, create: Bool) throws(StorageError) -> PartitionWriter {
        guard !closed.load(ordering: .acquiring) else {
            throw StorageError(.closed, message: "partition store is closed", path: rootDirectory)
        }
        return try shard(for: key).writers.withLock { writers throws(StorageError) -> PartitionWriter in
            if let writer = writers[key] { return writer }
            guard create else {
                throw StorageError(.unknownPartition, message: "no file for partition \(key)", path: filePath(key))
            }
            let writer = try createWriter(key)
            writers[key] = writer
            return writer
        }
    }

    private func createWriter(_ key: PartitionFileKey) throws(StorageError) -> PartitionWriter {
        try makeDirectory(rootDirectory + "/" + key.applicationId)
        try makeDirectory(shuffleDirectory(applicationId: key.applicationId, shuffleId: key.shuffleId))
        let path = filePath(key)
        if let fd = recycler.take(path: path) {
            return PartitionWriter(key: key, path: path, fd: fd, config: config, memoryBudget: memoryBudget,
                                   flushBuffers: flushBuffers, fileSystem: fileSystem, logger: logger)
        }
        let fd: Int32
        do throws(SystemCallError) {
            fd = try fileSystem.open(path: path, flags: O_RDWR | O_CREAT | O_EXCL, mode: 0o644)
        } catch where error.errno == EEXIST {
            throw StorageError(.alreadyExists, errno: EEXIST,
                               message: "partition file exists but is not held (run recover() first)", path: path)
        } catch {
            throw StorageError.system(error, operation: "create", path: path)
        }
        return PartitionWriter(key: key, path: path, fd: fd, config: config, memoryBudget: memoryBudget,
                               flushBuffers: flushBuffers, fileSystem: fileSystem, logger: logger)
    }

    private func removeWriters(where predicate: (PartitionFileKey) -> Bool) -> [PartitionWriter] {
        var removed: [PartitionWriter] = []
        for shard in shards {
            shard.writers.withLock { writers in
                for (key, writer) in writers where predicate(key) {
                    removed.append(writer)
                    writers[key] = nil
                }
            }
        }
        return removed
    }

    private func allWriters() -> [PartitionWriter] {
        shards.flatMap { shard in shard.writers.withLock { Array($0.values) } }
    }

    private static func sortsBefore(_ a: PartitionFileKey, _ b: PartitionFileKey) -> Bool {
        (a.applicationId, a.shuffleId, a.partitionId, a.epoch, a.role.rawValue)
            < (b.applicationId, b.shuffleId, b.partitionId, b.epoch, b.role.rawValue)
    }

    // MARK: - Directories

    /// mkdir -p for `path`.
    private func makeDirectories(_ path: String) throws(StorageError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            try makeDirectory(prefix)
        }
    }

    /// mkdir for `path`; an existing directory is fine.
    private func makeDirectory(_ path: String) throws(StorageError) {
        do throws(SystemCallError) {
            try fileSystem.makeDirectory(path: path)
        } catch where error.errno == EEXIST {
            return
        } catch {
            throw StorageError.system(error, operation: "mkdir", path: path)
        }
    }

    /// Removes a directory tree (files and directories); a missing tree is not an error.
    /// Returns the first failure after trying everything.
    private func removeTree(_ path: String, deletedFiles: inout Int) -> StorageError? {
        let entries: [DirectoryEntry]
        do throws(SystemCallError) {
            entries = try fileSystem.listDirectory(path: path)
        } catch where error.errno == ENOENT {
            return nil
        } catch {
            return StorageError.system(error, operation: "list directory", path: path)
        }
        var firstError: StorageError?
        for entry in entries {
            let child = path + "/" + entry.name
            if entry.isDirectory {
                if let error = removeTree(child, deletedFiles: &deletedFiles) { firstError = firstError ?? error }
                continue
            }
            if entry.name.hasSuffix(".data"), !openReaders.isOpen(child), recycler.recycle(path: child) {
                deletedFiles += 1
                continue
            }
            do throws(SystemCallError) {
                try fileSystem.unlink(path: child)
                if entry.name.hasSuffix(".data") { deletedFiles += 1 }
            } catch where error.errno == ENOENT {
                continue
            } catch {
                logger.warning("cannot delete partition file", metadata: ["path": "\(child)", "error": "\(error)"])
                firstError = firstError ?? StorageError.system(error, operation: "unlink", path: child)
            }
        }
        do throws(SystemCallError) {
            try fileSystem.removeDirectory(path: path)
        } catch where error.errno == ENOENT {
        } catch {
            firstError = firstError ?? StorageError.system(error, operation: "rmdir", path: path)
        }
        return firstError
    }
}

/// Read descriptors open per file path: a file a reader still holds is unlinked on delete, never recycled.
final class OpenReaderCounts: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func opened(_ path: String) { counts.withLock { $0[path, default: 0] += 1 } }

    func closed(_ path: String) {
        counts.withLock { counts in
            let left = (counts[path] ?? 1) - 1
            counts[path] = left > 0 ? left : nil
        }
    }

    func isOpen(_ path: String) -> Bool { counts.withLock { $0[path] != nil } }
}

/// One lock-protected slice of the writer map.
final class WriterShard: Sendable {
    let writers = Mutex<[PartitionFileKey: PartitionWriter]>([:])
}
