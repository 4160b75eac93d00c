import Logging
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

/// What a move copies: the file's bytes written out when the move began, where they were, and how many batches.
struct MoveSource: Sendable {
    let path: String
    let volume: Volume
    let fileBytes: Int
    let batchCount: Int
}

extension PartitionFile {
    /// Writes the flush buffer out and says what a move copies. Nil when the file is closed, empty, or holds
    /// buffered batches it cannot write (a failed file keeps those; moving it would lose them on this copy).
    func beginMove() -> MoveSource? {
        state.withLock { s in
            guard !s.isClosed else { return nil }
            try? writeOut(&s)
            guard s.buffer.isEmpty, s.durable.fileBytes > 0 else { return nil }
            let (path, volume) = location.withLock { ($0.path, $0.volume) }
            return MoveSource(
                path: path, volume: volume, fileBytes: s.durable.fileBytes,
                batchCount: s.durable.snapshot().reduce(0) { $0 + $1.batchCount })
        }
    }

    /// Under the writer's lock: when nothing was appended since `beginMove` and the file is still open where it
    /// was, `commit` gives the fsynced copy its final name, the writer switches to it (descriptor `fd`, chunk index,
    /// path, directory, both directories' accounting) and the old file is closed and unlinked (never recycled: a
    /// reader holding it finishes from it). Appends wait on the lock meanwhile, so none lands in the old file.
    /// - Returns: false when the file changed (nothing was committed or switched).
    /// - Throws: what `commit` throws (nothing switched; `commit` leaves no final-named copy behind).
    func finishMove(
        _ source: MoveSource, toPath: String, volume destination: Volume, fd: Int32, index: ChunkIndexBuilder,
        fileSystem: any SystemCalls, logger: Logger, commit: () throws(StorageError) -> Void
    ) throws(StorageError) -> Bool {
        try state.withLock { s throws(StorageError) -> Bool in
            let currentPath = location.withLock { $0.path }
            guard !s.isClosed, s.buffer.isEmpty, s.index.fileBytes == source.fileBytes, currentPath == source.path
            else { return false }
            try commit()
            let oldFd = s.fd
            s.fd = fd
            s.index = index
            s.durable = index
            s.bufferStartBytes = index.fileBytes
            location.withLock { $0 = FileLocation(path: toPath, volume: destination) }
            source.volume.account(-source.fileBytes)
            destination.account(index.fileBytes)
            fileSystem.close(fd: oldFd)
            do throws(SystemCallError) {
                try fileSystem.unlink(path: source.path)
            } catch  where error.errno == ENOENT {
            } catch {
                // Harmless but for the space: recovery deletes the older copy when it finds both.
                logger.warning(
                    "cannot unlink the old copy of a demoted partition file",
                    metadata: ["path": "\(source.path)", "error": "\(error)"])
            }
            return true
        }
    }
}
