import SluiceCore
import SluiceSystem

/// The storage interface the worker uses: recover what a previous run left, append batches to partition files,
/// read them back by chunk, delete by shuffle or application, report what is held, and give up buffered memory
/// under pressure. The worker knows stores only through this protocol.
public protocol PartitionStore: Sendable {
    /// Adopts the files a previous run left (truncating torn tails, setting corrupt files aside). Call once,
    /// before the first append.
    func recover() throws(StorageError) -> RecoveryReport
    /// Appends a batch to the key's file, creating the file on first use.
    func append(_ key: PartitionFileKey, batch: Batch) throws(StorageError) -> AppendOutcome
    /// Writes the key's buffered bytes out (fdatasync when configured); acknowledge after this for durability.
    func flush(_ key: PartitionFileKey) throws(StorageError)
    /// Flushes, then opens the key's file for reading with the chunks holding a map index in
    /// `startMapIndex..<endMapIndex`. Throws `.unknownPartition` for a key with no file.
    func openForRead(
        _ key: PartitionFileKey, startMapIndex: UInt32,
        endMapIndex: UInt32
    ) throws(StorageError) -> ReadableFile
    /// Where one chunk of an open file is served from: a file range (sent with sendfile) or bytes.
    func chunkSource(_ file: ReadableFile, chunk: ChunkInfo) throws(StorageError) -> ChunkSource
    /// Deletes every file of a shuffle; returns how many files were removed.
    @discardableResult
    func deleteShuffle(applicationId: String, shuffleId: UInt32) throws(StorageError) -> Int
    /// Deletes every file of an application; returns how many files were removed.
    @discardableResult
    func deleteApplication(applicationId: String) throws(StorageError) -> Int
    /// Every file held, with its size, for the worker's registration report.
    func heldPartitions() -> [HeldPartitionFile]
    /// Every shuffle with at least one file held.
    func heldShuffles() -> [ShuffleKey]
    /// Free and total bytes of the file system holding the store.
    func diskSpace() throws(StorageError) -> DiskSpace
    /// Room per storage tier, fastest first (for heartbeats: the master places by the fastest tier with room).
    func tierSpace() -> [TierSpace]
    /// Each storage directory: its tier, capacity, use and health (for the operations API and metrics).
    func directories() -> [StorageDirectoryStatus]
    /// Writes out buffered bytes, largest buffers first, until the memory budget's use is at most
    /// `targetBytes`. Returns the bytes written.
    @discardableResult
    func relieveMemoryPressure(downToBytes targetBytes: Int) -> Int
    /// Marks directories with a call stalled past the stall timeout unhealthy (call it periodically).
    func noticeStalls()
    /// Writes out the buffers of files with no append for `idleForMs`; returns the bytes written.
    @discardableResult
    func flushIdleFiles(idleForMs: Int) -> Int
    /// Creates empty files into the recycled-file pool (at start, in the background); returns how many.
    @discardableResult
    func createSpareFiles() -> Int
    /// Writes everything out and closes every file; later calls fail with `.closed`.
    func close() throws(StorageError)
    /// This worker's folders in shared (`fsx`) directories, reported to the master for adoption.
    func sharedFolders() -> [SharedFolder]
    /// Adopts a lost worker's shared folder: holds its files read-only and serves them; returns them.
    func adoptSharedFolder(_ shared: SharedFolder) throws(StorageError) -> [HeldPartitionFile]
}

extension PartitionStore {
    /// One chunk's bytes, read from the file when the store serves it as a file range (the paths that cannot
    /// use sendfile: recompression, tests).
    public func readChunk(_ file: ReadableFile, chunk: ChunkInfo) throws(StorageError) -> [UInt8] {
        switch try chunkSource(file, chunk: chunk) {
        case .fileRange: try file.readChunk(chunk)
        case .bytes(let bytes): bytes
        }
    }
}

/// A partition file open for reading: a private descriptor (closed when this object is released),
/// and a snapshot of its chunks taken after a flush. Appends after the snapshot go past its end, and
/// deleting the file leaves the descriptor readable, so the snapshot stays valid while this lives.
public final class ReadableFile: Sendable {
    /// The partition.
    public let key: PartitionFileKey
    /// The file's path when opened.
    public let path: String
    /// A read-only descriptor for `pread` or `sendfile`; valid until this object is released.
    public let fd: Int32
    /// The chunks that hold a requested map index, ascending by index and offset.
    public let chunks: [ChunkInfo]
    /// The number of chunks in the whole file at open time (requested or not).
    public let totalChunkCount: Int
    /// Readable bytes at open time.
    public let fileBytes: Int
    /// Set when the writer failed: the file then lacks acknowledged batches that were still buffered,
    /// so a reader should prefer the other copy.
    public let writerFailure: StorageError?

    let fileSystem: any SystemCalls
    /// Called once the descriptor is closed (the store counts open readers per file).
    let onClose: (@Sendable () -> Void)?

    init(
        key: PartitionFileKey, path: String, fd: Int32, chunks: [ChunkInfo], totalChunkCount: Int,
        fileBytes: Int, writerFailure: StorageError?, fileSystem: any SystemCalls,
        onClose: (@Sendable () -> Void)? = nil
    ) {
        self.key = key
        self.path = path
        self.fd = fd
        self.chunks = chunks
        self.totalChunkCount = totalChunkCount
        self.fileBytes = fileBytes
        self.writerFailure = writerFailure
        self.fileSystem = fileSystem
        self.onClose = onClose
    }

    deinit {
        fileSystem.close(fd: fd)
        onClose?()
    }

    /// Reads a chunk's bytes with `pread`.
    /// - Throws: `.ioError` when the read fails, `.corrupt` when the file is shorter than the chunk.
    public func readChunk(_ chunk: ChunkInfo) throws(StorageError) -> [UInt8] {
        var failure: SystemCallError?
        var readBytes = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: chunk.lengthBytes) { buffer, count in
            do throws(SystemCallError) {
                readBytes = try fileSystem.readFully(
                    fd: fd, into: UnsafeMutableRawBufferPointer(buffer),
                    offsetBytes: chunk.offsetBytes)
            } catch {
                failure = error
            }
            count = failure == nil ? readBytes : 0
        }
        if let failure { throw StorageError.system(failure, operation: "pread", path: path) }
        guard readBytes == chunk.lengthBytes else {
            throw StorageError(
                .corrupt,
                message:
                    "chunk \(chunk.index) needs \(chunk.lengthBytes) bytes at \(chunk.offsetBytes), file has \(readBytes)",
                path: path)
        }
        return bytes
    }
}

/// One file a store holds.
public struct HeldPartitionFile: Sendable, Equatable {
    /// The partition.
    public var key: PartitionFileKey
    /// Bytes appended to the file.
    public var fileBytes: Int
    /// True when the file's writer failed (it takes no more appends).
    public var isFailed: Bool

    /// Creates a description.
    public init(key: PartitionFileKey, fileBytes: Int, isFailed: Bool) {
        self.key = key
        self.fileBytes = fileBytes
        self.isFailed = isFailed
    }
}

/// One storage directory as the operations API reports it.
public struct StorageDirectoryStatus: Sendable, Equatable, Encodable {
    /// The directory.
    public var path: String
    /// Its tier's index, fastest first, and kind (`nvme`, `ebs`, `fsx`).
    public var tier: Int
    public var kind: String
    /// Bytes it may hold, and holds.
    public var capacityBytes: Int
    public var usedBytes: Int
    /// False while a file-system failure keeps new files away.
    public var healthy: Bool
    /// Partition files it holds.
    public var files: Int
    /// File-system failures (and stalls) seen in it since start.
    public var failures: Int
}

/// Space on the file system holding a store.
public struct DiskSpace: Sendable, Equatable {
    /// Bytes available to unprivileged writers.
    public var freeBytes: Int
    /// Total bytes.
    public var capacityBytes: Int

    /// Creates a description.
    public init(freeBytes: Int, capacityBytes: Int) {
        self.freeBytes = freeBytes
        self.capacityBytes = capacityBytes
    }
}
