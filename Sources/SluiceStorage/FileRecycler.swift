import Logging
import Synchronization

#if canImport(Glibc)
    import SluiceSystem
    import Glibc
#endif

/// A bounded pool of emptied partition files, kept in `<root>/.recycle/` for reuse by new partition files.
///
/// Why: on ext4 a create soon after many deletes is slow. The inode allocator will not hand out an inode
/// deleted in the last ~35 s and scans past every such inode on each create (`find_inode_bit` ->
/// `recently_deleted`); creating the 2,000 files of a small-partitions shuffle right after another shuffle's
/// deletion took 30-40% of a worker's CPU. A recycled file never frees or allocates an inode: deleting truncates
/// the file and renames it into the pool, creating links a pooled file to the new name (so an existing name is
/// never replaced) and drops the pool's name. At most `capacity` files are kept; the rest are unlinked.
final class FileRecycler: Sendable {
    /// The pool's directory name under the store's root (not a valid application id, so recovery skips it).
    static let directoryName = ".recycle"

    let directory: String
    let capacity: Int
    private let fileSystem: any SystemCalls
    private let logger: Logger
    private struct State {
        var names: [String] = []
        /// Names handed out for files being moved in (counted against the capacity).
        var incoming = 0
        var nextName: UInt64 = 0
    }
    private let state = Mutex(State())

    /// A pool in `root`, empty until `open()`.
    init(root: String, capacity: Int, fileSystem: any SystemCalls, logger: Logger) {
        directory = root + "/" + Self.directoryName
        self.capacity = max(capacity, 0)
        self.fileSystem = fileSystem
        self.logger = logger
    }

    /// Creates the pool's directory (the root must exist) and adopts the files a previous run left there, up to
    /// `capacity`; the rest are unlinked. With `capacity` 0 the pool is off and its directory is emptied.
    func open() {
        do throws(SystemCallError) {
            try fileSystem.makeDirectory(path: directory)
        } catch  where error.errno == EEXIST {
        } catch {
            logger.warning(
                "cannot create the recycled-file pool; files will be created and deleted",
                metadata: ["path": "\(directory)", "error": "\(error)"])
        }
        var adopted: [String] = []
        for entry in (try? fileSystem.listDirectory(path: directory)) ?? [] where !entry.isDirectory {
            if adopted.count < capacity {
                adopted.append(entry.name)
            } else {
                try? fileSystem.unlink(path: directory + "/" + entry.name)
            }
        }
        let next = adopted.compactMap { UInt64($0.split(separator: ".").first ?? "") }.max().map { $0 + 1 } ?? 0
        state.withLock {
            $0.names = adopted
            $0.nextName = next
        }
    }

    /// Files in the pool now.
    var count: Int { state.withLock { $0.names.count } }

    /// Empties the file at `path` and moves it into the pool. Returns false (the caller unlinks it) when the
    /// pool is full or off, or when truncating or moving fails.
    func recycle(path: String) -> Bool {
        let moved = addFile(whilePoolHoldsFewerThan: capacity) { pooledPath in
            do throws(SystemCallError) {
                let fd = try fileSystem.open(path: path, flags: O_WRONLY | O_TRUNC | O_NOFOLLOW, mode: 0)
                fileSystem.close(fd: fd)
                try fileSystem.rename(from: path, to: pooledPath)
                return true
            } catch {
                logger.debug("cannot recycle partition file", metadata: ["path": "\(path)", "error": "\(error)"])
                return false
            }
        }
        return moved ?? false
    }

    /// Creates empty files in the pool until it holds `count` (at most `capacity`), or `shouldStop()` says so, or a
    /// create fails (logged; the pool keeps what it has). Runs beside `take` and `recycle`.
    /// - Returns: the files created.
    @discardableResult
    func fill(upTo count: Int, shouldStop: () -> Bool) -> Int {
        var created = 0
        while !shouldStop() {
            let made = addFile(whilePoolHoldsFewerThan: min(count, capacity)) { pooledPath in
                do throws(SystemCallError) {
                    let fd = try fileSystem.open(
                        path: pooledPath, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o644)
                    fileSystem.close(fd: fd)
                    return true
                } catch {
                    logger.warning(
                        "cannot create a spare partition file; new files will be created when needed",
                        metadata: ["path": "\(directory)", "error": "\(error)"])
                    return false
                }
            }
            guard made == true else { break }
            created += 1
        }
        return created
    }

    /// Reserves a new name in the pool while it holds (or is receiving) fewer than `limit` files, lets `place` put a
    /// file at that path, and adds the name to the pool when `place` says it did. Nil when the pool was full.
    private func addFile(whilePoolHoldsFewerThan limit: Int, _ place: (_ pooledPath: String) -> Bool) -> Bool? {
        let reserved = state.withLock { s -> String? in
            guard s.names.count + s.incoming < limit else { return nil }
            s.incoming += 1
            defer { s.nextName += 1 }
            return "\(s.nextName).free"
        }
        guard let name = reserved else { return nil }
        let placed = place(directory + "/" + name)
        state.withLock { s in
            s.incoming -= 1
            if placed { s.names.append(name) }
        }
        return placed
    }

    /// Gives a pooled file the name `path` (which must not exist) and opens it for reading and writing, empty.
    /// Returns nil when the pool is empty or the move fails; the caller then creates the file.
    func take(path: String) -> Int32? {
        while let name = state.withLock({ $0.names.popLast() }) {
            let pooled = directory + "/" + name
            do throws(SystemCallError) {
                try fileSystem.link(from: pooled, to: path)
            } catch  where error.errno == EEXIST {
                state.withLock { $0.names.append(name) }
                return nil
            } catch {
                // The pooled file is gone or unusable: forget it and try the next one.
                try? fileSystem.unlink(path: pooled)
                continue
            }
            try? fileSystem.unlink(path: pooled)
            let fd: Int32
            do throws(SystemCallError) {
                // O_NOFOLLOW: a symbolic link found in the pool must never lead writes outside the store.
                fd = try fileSystem.open(path: path, flags: O_RDWR | O_NOFOLLOW, mode: 0)
            } catch {
                try? fileSystem.unlink(path: path)
                return nil
            }
            do throws(SystemCallError) {
                // Files are emptied when they enter the pool; a crash in between could leave bytes behind.
                if try fileSystem.fileSizeBytes(fd: fd) != 0 { try fileSystem.truncate(fd: fd, lengthBytes: 0) }
                return fd
            } catch {
                fileSystem.close(fd: fd)
                try? fileSystem.unlink(path: path)
                return nil
            }
        }
        return nil
    }
}
