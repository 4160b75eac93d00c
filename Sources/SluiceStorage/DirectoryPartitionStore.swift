#if canImport(Glibc)
import Glibc
#endif
import Logging
import SluiceCore
import SluiceSystem
import Synchronization

/// A `PartitionStore` on one `Volume`: `<root>/<applicationId>/<shuffleId>/<partitionId>-<epoch>-<p|r>.data`.
/// Its files are registered in a `FileTable`; appends and reads both find them there.
public final class DirectoryPartitionStore: PartitionStore {
    /// The store's tunables.
    public let config: StoreConfig

    let memoryBudget: MemoryBudget
    let fileSystem: any SystemCalls
    let logger: Logger
    let volume: Volume
    let files: FileTable
    private let closed = Atomic<Bool>(false)
    let flushBuffers: FlushBufferPool

    /// The store's directory.
    public var rootDirectory: String { volume.path }

    /// Opens (creating when missing) a store in `rootDirectory`. Call `recover()` before serving to pick up
    /// files a previous run left.
    /// - Parameters:
    ///   - memoryBudget: flush buffers are accounted here.
    ///   - fileSystem: the system calls to use (tests inject failures).
    public init(rootDirectory: String, config: StoreConfig, memoryBudget: MemoryBudget,
                fileSystem: any SystemCalls = PosixSystem(),
                logger: Logger = Logger(label: "sluice.storage"), shardCount: Int = 32) throws(StorageError) {
        self.config = config
        self.memoryBudget = memoryBudget
        self.fileSystem = fileSystem
        self.logger = logger
        volume = try Volume(path: rootDirectory, recycledFilesMax: config.recycledFilesMax, fileSystem: fileSystem,
                            logger: logger)
        files = FileTable(shardCount: shardCount)
        flushBuffers = FlushBufferPool(bufferCapacityBytes: config.flushBufferBytes,
                                       maxPooledBytes: config.flushBufferPoolBytes)
    }

    /// Deleted partition files waiting (emptied) in the recycled-file pool.
    public var recycledFileCount: Int { volume.recycler.count }

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
        let readers = volume.openReaders
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

    /// A chunk of a directory file is a range of it: sent with sendfile, or read with `pread`.
    public func chunkSource(_ file: ReadableFile, chunk: ChunkInfo) throws(StorageError) -> ChunkSource {
        .fileRange(fd: file.fd, offsetBytes: chunk.offsetBytes, lengthBytes: chunk.lengthBytes)
    }

    /// Closes and deletes every file of a shuffle (held or not) and removes its directory. Deleted files are
    /// emptied into the recycled-file pool while it has room, else unlinked.
    @discardableResult
    public func deleteShuffle(applicationId: String, shuffleId: UInt32) throws(StorageError) -> Int {
        try PartitionFileKey.validateApplicationId(applicationId)
        let removed = files.remove { $0.applicationId == applicationId && $0.shuffleId == shuffleId }
        for file in removed { file.discard() }
        var deletedFiles = 0
        let firstError = volume.deleteShuffle(applicationId: applicationId, shuffleId: shuffleId,
                                              deletedFiles: &deletedFiles)
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
        let removed = files.remove { $0.applicationId == applicationId }
        for file in removed { file.discard() }
        var deletedFiles = 0
        let firstError = volume.deleteApplication(applicationId: applicationId, deletedFiles: &deletedFiles)
        logger.info("deleted application files", metadata: ["application.id": "\(applicationId)", "files": "\(deletedFiles)"])
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

    /// statvfs of the store's directory.
    public func diskSpace() throws(StorageError) -> DiskSpace { try volume.diskSpace() }

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

    /// The writer of one file (internal: tests and recovery inspect it).
    func existingWriter(_ key: PartitionFileKey) -> PartitionFile? { files.file(key) }

    func shuffleDirectory(applicationId: String, shuffleId: UInt32) -> String {
        volume.shuffleDirectory(applicationId: applicationId, shuffleId: shuffleId)
    }

    private func writer(for key: PartitionFileKey, create: Bool) throws(StorageError) -> PartitionFile {
        guard !closed.load(ordering: .acquiring) else {
            throw StorageError(.closed, message: "partition store is closed", path: rootDirectory)
        }
        guard create else {
            guard let file = files.file(key) else {
                throw StorageError(.unknownPartition, message: "no file for partition \(key)",
                                   path: volume.filePath(key))
            }
            return file
        }
        return try files.file(key) { () throws(StorageError) -> PartitionFile in
            let (path, fd) = try volume.createFile(key)
            return PartitionFile(key: key, path: path, fd: fd, config: config, memoryBudget: memoryBudget,
                                 flushBuffers: flushBuffers, fileSystem: fileSystem, logger: logger)
        }
    }

    private static func sortsBefore(_ a: PartitionFileKey, _ b: PartitionFileKey) -> Bool {
        (a.applicationId, a.shuffleId, a.partitionId, a.epoch, a.role.rawValue)
            < (b.applicationId, b.shuffleId, b.partitionId, b.epoch, b.role.rawValue)
    }
}
