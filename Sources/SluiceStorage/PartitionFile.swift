import Logging
import SluiceCore
import SluiceSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The append side of one partition file: a bounded in-memory flush buffer written out with `pwrite`
/// at explicit offsets, a batch-aligned chunk index, size limits and a sticky failure state.
/// All operations on one writer are serialized by its own lock; writers never share a lock.
public final class PartitionFile: Sendable {
    /// The partition this file holds.
    public let key: PartitionFileKey
    /// The file's path now (demotion moves it to another directory; see `PartitionFile+Demotion.swift`).
    public var path: String { location.withLock { $0.path } }
    /// The directory it lives in now (its bytes count against that directory's capacity).
    var volume: Volume { location.withLock { $0.volume } }
    /// When the last batch was appended (monotonic ms; creation or recovery before the first): demotion moves
    /// only files idle for a while.
    let lastAppendMs: Atomic<UInt64>

    private let config: StoreConfig
    private let memoryBudget: MemoryBudget
    private let flushBuffers: FlushBufferPool
    private let fileSystem: any SystemCalls
    private let logger: Logger
    /// Lock order: `state`, then `location`. The location changes only under both.
    let state: Mutex<WriterState>
    let location: Mutex<FileLocation>

    init(
        key: PartitionFileKey, path: String, volume: Volume, fd: Int32, config: StoreConfig,
        memoryBudget: MemoryBudget,
        flushBuffers: FlushBufferPool, fileSystem: any SystemCalls, logger: Logger,
        recovered: ChunkIndexBuilder? = nil, failure: StorageError? = nil
    ) {
        self.key = key
        location = Mutex(FileLocation(path: path, volume: volume))
        lastAppendMs = Atomic(Monotonic.nowMs())
        self.config = config
        self.memoryBudget = memoryBudget
        self.flushBuffers = flushBuffers
        self.fileSystem = fileSystem
        self.logger = logger
        let index = recovered ?? ChunkIndexBuilder(chunkTargetBytes: config.chunkTargetBytes)
        state = Mutex(
            WriterState(
                fd: fd, bufferStartBytes: index.fileBytes, index: index, durable: index,
                failure: failure))
    }

    /// Appends one batch (header and payload) at the end of the file.
    /// - Returns: `.stored`, `.storedSoftSplit` (stored; the file reached its soft limit) or
    ///   `.refusedHardSplit` (not stored: the batch would take a non-empty file past its hard limit).
    /// - Throws: `StorageError`: the writer's sticky failure, `.invalidBatch`, `.unknownPartition` once
    ///   deleted or closed, or the I/O error that failed this writer now.
    public func append(_ batch: Batch) throws(StorageError) -> AppendOutcome {
        let batchBytes = batch.encodedByteCount
        guard batch.payload.count == Int(batch.header.storedLength) else {
            throw StorageError(
                .invalidBatch,
                message: "payload of \(batch.payload.count) bytes, header says \(batch.header.storedLength)",
                path: path)
        }
        return try state.withLock { s throws(StorageError) -> AppendOutcome in
            try s.checkUsable(path: path)
            let fileBytes = s.index.fileBytes
            if fileBytes > 0 && fileBytes + batchBytes > config.hardLimitBytes { return .refusedHardSplit }
            if batchBytes >= config.directWriteMinBytes {
                try writeOut(&s)
                try writeDirect(&s, batch)
            } else {
                if s.buffer.count + batchBytes > config.flushBufferBytes { try writeOut(&s) }
                if s.buffer.capacity == 0 { startBuffer(&s) }
                s.buffer.append(contentsOf: batch.header.encoded)
                s.buffer.append(contentsOf: batch.payload)
                if !s.bufferIsPooled {
                    memoryBudget.acquire(batchBytes)
                    s.bufferChargedBytes += batchBytes
                }
                s.index.add(
                    mapIndex: batch.header.mapIndex, uncompressed: batch.header.codec == .none,
                    encodedBytes: batchBytes)
            }
            // Counted under the lock, against the directory the batch went to (a move switches it under this lock).
            location.withLock { $0.volume }.account(batchBytes)
            lastAppendMs.store(Monotonic.nowMs(), ordering: .relaxed)
            return s.index.fileBytes >= config.softLimitBytes ? .storedSoftSplit : .stored
        }
    }

    /// Writes the flush buffer out (and fdatasyncs when `fsyncOnFlush`). After it returns, every
    /// appended batch is visible to readers. A failed writer retries its buffered bytes here, then
    /// throws its failure.
    public func flush() throws(StorageError) {
        try state.withLock { s throws(StorageError) in
            guard !s.isClosed else { return }
            try writeOut(&s)
            // A failed writer (e.g. fdatasync reported EIO once) must never look durable again.
            if let failure = s.failure { throw failure }
            if config.fsyncOnFlush { try sync(&s) }
        }
    }

    /// Bytes appended (written out or buffered).
    public var fileBytes: Int { state.withLock { $0.index.fileBytes } }

    /// Bytes waiting in the flush buffer.
    public var bufferedBytes: Int { state.withLock { $0.buffer.count } }

    /// Bytes of the memory budget the flush buffer holds: its whole capacity when it came from the pool.
    public var chargedBytes: Int { state.withLock { $0.bufferChargedBytes } }

    /// The error that failed this writer, if any.
    public var failure: StorageError? { state.withLock { $0.failure } }

    /// Flushes, then opens a read-only descriptor and snapshots the chunks that are on disk.
    /// When the flush fails the snapshot stops at the last bytes written out, and `failure` says why.
    /// The reader is counted at the path it opens (under the lock, before the descriptor exists, so neither a
    /// move nor a delete can slip in between); `readers.closed(path)` when the descriptor is closed.
    func openSnapshot() throws(StorageError) -> (
        fd: Int32, chunks: [ChunkInfo], fileBytes: Int, failure: StorageError?, path: String,
        readers: OpenReaderCounts
    ) {
        try state.withLock { s throws(StorageError) in
            guard !s.isClosed else {
                throw StorageError(.unknownPartition, message: "partition file was deleted or closed", path: path)
            }
            do {
                try writeOut(&s)
            } catch {
                logger.warning(
                    "flush before read failed; serving the bytes written so far",
                    metadata: metadata(["error": "\(error)"]))
            }
            let (path, readers) = location.withLock { ($0.path, $0.volume.openReaders) }
            readers.opened(path)
            let fd: Int32
            do throws(SystemCallError) {
                fd = try volume.watched { () throws(SystemCallError) in
                    try fileSystem.open(path: path, flags: O_RDONLY, mode: 0)
                }
            } catch {
                readers.closed(path)
                throw StorageError.system(error, operation: "open for read", path: path)
            }
            return (fd, s.durable.snapshot(), s.durable.fileBytes, s.failure, path, readers)
        }
    }

    /// Drops buffered bytes, closes the descriptor and refuses further use (the caller unlinks the file).
    /// - Returns: the directory and the bytes it held there (for accounting), nil when it was closed already.
    @discardableResult
    func discard() -> (volume: Volume, bytes: Int)? {
        state.withLock { s in
            guard !s.isClosed else { return nil }
            dropBuffer(&s)
            fileSystem.close(fd: s.fd)
            s.isClosed = true
            return (location.withLock { $0.volume }, s.index.fileBytes)
        }
    }

    /// Writes buffered bytes out (fdatasync when configured), closes the descriptor and refuses further use.
    /// Buffered bytes that cannot be written are dropped and logged; their budget is returned.
    /// Throws the writer's failure, if it has one.
    func close() throws(StorageError) {
        try state.withLock { s throws(StorageError) in
            guard !s.isClosed else { return }
            defer {
                if !s.buffer.isEmpty {
                    logger.error(
                        "dropping buffered bytes of a failed partition file at close",
                        metadata: metadata(["bytes": "\(s.buffer.count)"]))
                }
                dropBuffer(&s)
                fileSystem.close(fd: s.fd)
                s.isClosed = true
            }
            try writeOut(&s)
            if let failure = s.failure { throw failure }
            if config.fsyncOnFlush { try sync(&s) }
        }
    }

    // MARK: - Under the lock

    func writeOut(_ s: inout WriterState) throws(StorageError) {
        guard !s.buffer.isEmpty else { return }
        do throws(SystemCallError) {
            let fd = s.fd
            let start = s.bufferStartBytes
            let buffer = s.buffer
            try volume.watched { () throws(SystemCallError) in
                try fileSystem.writeFully(fd: fd, slice: buffer[...], offsetBytes: start)
            }
        } catch {
            throw fail(&s, StorageError.system(error, operation: "pwrite", path: path))
        }
        s.bufferStartBytes += s.buffer.count
        dropBuffer(&s)
        s.durable = s.index
        volume.manifest?.written(key, s.durable)
    }

    /// Gives the writer an empty flush buffer: a pooled one (charged its whole capacity at once, so appends to it
    /// need no charge), else a full-size one for a file that already wrote a buffer out, else a growing one.
    private func startBuffer(_ s: inout WriterState) {
        if let pooled = flushBuffers.take() {
            s.buffer = pooled
            s.bufferIsPooled = true
            s.bufferChargedBytes = pooled.capacity
            memoryBudget.acquire(pooled.capacity)
        } else if s.bufferStartBytes > 0 {
            s.buffer.reserveCapacity(config.flushBufferBytes)
        }
    }

    /// Returns the buffer's charge to the budget and its storage to the pool; buffered bytes are gone.
    private func dropBuffer(_ s: inout WriterState) {
        if s.bufferChargedBytes > 0 { memoryBudget.release(s.bufferChargedBytes) }
        s.bufferChargedBytes = 0
        s.bufferIsPooled = false
        flushBuffers.give(&s.buffer)
    }

    private func writeDirect(_ s: inout WriterState, _ batch: Batch) throws(StorageError) {
        let header = batch.header.encoded
        let offsetBytes = s.bufferStartBytes
        do throws(SystemCallError) {
            let fd = s.fd
            try volume.watched { () throws(SystemCallError) in
                try fileSystem.writeFully(fd: fd, slice: header[...], offsetBytes: offsetBytes)
                try fileSystem.writeFully(fd: fd, slice: batch.payload, offsetBytes: offsetBytes + header.count)
            }
        } catch {
            throw fail(&s, StorageError.system(error, operation: "pwrite", path: path))
        }
        s.index.add(
            mapIndex: batch.header.mapIndex, uncompressed: batch.header.codec == .none,
            encodedBytes: batch.encodedByteCount)
        s.bufferStartBytes = s.index.fileBytes
        s.durable = s.index
        volume.manifest?.written(key, s.durable)
    }

    private func sync(_ s: inout WriterState) throws(StorageError) {
        do throws(SystemCallError) {
            let fd = s.fd
            try volume.watched { () throws(SystemCallError) in try fileSystem.fsync(fd: fd) }
        } catch {
            throw fail(&s, StorageError.system(error, operation: "fdatasync", path: path))
        }
    }

    /// Makes the failure sticky; a file-system failure (ENOSPC, EIO) also marks the file's directory unhealthy,
    /// so it gets no new files until a probe write succeeds.
    private func fail(_ s: inout WriterState, _ error: StorageError) -> StorageError {
        if s.failure == nil {
            logger.error(
                "partition file failed; refusing further appends",
                metadata: metadata(["error": "\(error)"]))
            s.failure = error
        }
        if error.isFileSystemFailure { volume.markUnhealthy(error) }
        return error
    }

    private func metadata(_ extra: Logger.Metadata) -> Logger.Metadata {
        var result: Logger.Metadata = [
            "shuffle.id": "\(key.shuffleId)", "partition.id": "\(key.partitionId)", "path": "\(path)",
        ]
        result.merge(extra) { _, new in new }
        return result
    }
}

/// Where a partition file is: its path and the directory holding it.
struct FileLocation: Sendable {
    var path: String
    var volume: Volume
}

/// A writer's mutable state, guarded by its mutex.
struct WriterState: Sendable {
    var fd: Int32
    /// Whole batches not written out yet; they belong at file offset `bufferStartBytes`.
    var buffer: [UInt8] = []
    /// What `buffer` holds of the memory budget: its bytes, or its whole capacity when it came from the pool.
    var bufferChargedBytes = 0
    /// `buffer` came from the flush buffer pool (and is charged its capacity).
    var bufferIsPooled = false
    /// Bytes written out: the file offset of `buffer[0]`, always a batch boundary.
    var bufferStartBytes: Int
    /// Chunks of every appended batch, buffered or not.
    var index: ChunkIndexBuilder
    /// Chunks of the batches written out (what a reader may see).
    var durable: ChunkIndexBuilder
    var failure: StorageError?
    var isClosed = false

    func checkUsable(path: String) throws(StorageError) {
        if isClosed {
            throw StorageError(.unknownPartition, message: "partition file was deleted or closed", path: path)
        }
        if let failure { throw failure }
    }
}
