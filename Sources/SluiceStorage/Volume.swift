import Logging
import SluiceConfig
import SluiceCore
import SluiceSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One storage directory: where its partition files live (`<path>/<applicationId>/<shuffleId>/<file>`), its
/// pool of recycled files, how many bytes it may hold and holds, and its free space. Knows paths and files, not
/// writers.
final class Volume: Sendable {
    /// The directory, without a trailing slash.
    let path: String
    /// The tier it belongs to (its index in the store's tier list, fastest first) and that tier's kind.
    let tierIndex: Int
    let kind: StorageTierConfig.Kind
    /// Bytes its partition files may hold in all.
    let capacityBytes: Int
    /// New files go elsewhere once `usedBytes` reaches this; above it, demotion moves files out.
    let highWatermarkBytes: Int
    /// Demotion moves files out until `usedBytes` is back at or below this.
    let lowWatermarkBytes: Int
    /// Batches demoted into this directory are re-encoded to Zstandard (the tier's `reencode=zstd`).
    let reencodesToZstd: Bool
    let fileSystem: any SystemCalls
    let logger: Logger
    /// Emptied files kept for reuse.
    let recycler: FileRecycler
    /// Read descriptors open per file: a file a reader holds is unlinked on delete, never recycled.
    let openReaders = OpenReaderCounts()
    /// The crash-safe record of its finished files (`ebs` and `fsx` tiers; nil for `nvme`). See `ManifestLog`.
    let manifest: ManifestLog?
    private let used = Atomic<Int>(0)
    /// File-system failures (and stalls) seen in the directory since start.
    private let failures = Atomic<Int>(0)
    /// Why the directory is unhealthy and when it was last probed; nil while healthy.
    private let unhealthy = Mutex<(reason: StorageError, lastProbeMs: UInt64)?>(nil)
    /// File-system calls running in the directory now (writes, fsyncs, opens), for stall detection.
    private let inFlight = InFlightCalls()
    /// A call in flight this long marks the directory stalled.
    let stallTimeoutMs: Int

    /// Opens (creating when missing) the directory, proves it writable, and opens its recycled-file pool.
    /// - Parameters:
    ///   - tier: the tier's settings; capacity 0 means `fileSystemShare` of the file system's size.
    /// - Throws: `StorageError` naming the directory when it cannot be created or written (a root-owned volume
    ///   without fsGroup, a read-only mount), or its file system cannot be measured.
    ///   - syncManifest: fdatasync each manifest record as it is written (`fsyncOnFlush`).
    init(
        path: String, tierIndex: Int, tier: StorageTierConfig, recycledFilesMax: Int, stallTimeoutMs: Int,
        fileSystem: any SystemCalls, logger: Logger, syncManifest: Bool = false
    ) throws(StorageError) {
        var root = path
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        guard !root.isEmpty else { throw StorageError(.invalidKey, message: "empty root directory") }
        self.path = root
        self.tierIndex = tierIndex
        kind = tier.kind
        self.stallTimeoutMs = stallTimeoutMs
        self.fileSystem = fileSystem
        self.logger = logger
        try Self.makeDirectories(root, fileSystem: fileSystem)
        try Self.proveWritable(root, fileSystem: fileSystem)
        if tier.capacityBytes > 0 {
            capacityBytes = tier.capacityBytes
        } else {
            let space: (freeBytes: Int, capacityBytes: Int)
            do throws(SystemCallError) {
                space = try fileSystem.spaceBytes(path: root)
            } catch {
                throw StorageError.system(error, operation: "statvfs", path: root)
            }
            capacityBytes = Int(Double(space.capacityBytes) * tier.fileSystemShare)
        }
        highWatermarkBytes = Int(Double(capacityBytes) * tier.highWatermarkFraction)
        lowWatermarkBytes = Int(Double(capacityBytes) * tier.lowWatermarkFraction)
        reencodesToZstd = tier.reencodeToZstd
        recycler = FileRecycler(root: root, capacity: recycledFilesMax, fileSystem: fileSystem, logger: logger)
        recycler.open()
        manifest =
            tier.kind.keepsManifest
            ? try ManifestLog(directory: root, fileSystem: fileSystem, logger: logger, syncEachRecord: syncManifest)
            : nil
    }

    /// Bytes its held partition files take (counted as they are written, recovered and deleted).
    var usedBytes: Int { used.load(ordering: .relaxed) }

    /// File-system failures (and stalls) seen in the directory since start.
    var failureCount: Int { failures.load(ordering: .relaxed) }

    /// Counts bytes written to (positive) or deleted from (negative) one of its files.
    func account(_ bytes: Int) { used.add(bytes, ordering: .relaxed) }

    /// Whether `bytes` more fit under its capacity.
    func hasRoom(for bytes: Int) -> Bool { usedBytes + bytes <= capacityBytes }

    /// Bytes it may still take: under its capacity and within its file system's free space.
    func roomBytes() throws(StorageError) -> Int {
        max(0, min(capacityBytes - usedBytes, try diskSpace().freeBytes))
    }

    /// False once a write on it failed with ENOSPC or EIO, or a stall was noticed (`noticeStall`), until a probe
    /// write succeeds. Checked on every append, so it takes one lock and looks at no in-flight call.
    var isHealthy: Bool { unhealthy.withLock { $0 == nil } }

    /// Marks the directory unhealthy when one of its calls has stalled; the store's periodic check, placement and
    /// reads call it, so appends need not scan the in-flight calls.
    func noticeStall() {
        if isStalled { markUnhealthy(stallError()) }
    }

    /// True while a call in the directory has been running for `stallTimeoutMs` or longer.
    var isStalled: Bool { (inFlight.oldestAgeMs() ?? 0) >= UInt64(stallTimeoutMs) }

    /// Runs one file-system call of this directory, recording it as in flight so a call that never returns is seen
    /// by other threads (`isStalled`).
    func watched<T, E: Error>(_ call: () throws(E) -> T) throws(E) -> T {
        let token = inFlight.begin()
        defer { inFlight.end(token) }
        return try call()
    }

    /// What a stalled directory is marked with (an errno, so it counts as a file-system failure).
    func stallError() -> StorageError {
        StorageError(
            .ioError, errno: ETIMEDOUT,
            message: "a file-system call has not returned for \(stallTimeoutMs) ms (stalled directory)", path: path)
    }

    /// Stops placing new files here (logged once per episode); appends to its files answer a hard split.
    func markUnhealthy(_ reason: StorageError) {
        failures.add(1, ordering: .relaxed)
        let changed = unhealthy.withLock { state -> Bool in
            guard state == nil else { return false }
            state = (reason, Monotonic.nowMs())
            return true
        }
        if changed {
            logger.error(
                "storage directory unhealthy; no new files until a probe write succeeds",
                metadata: ["storage.dir": "\(path)", "error": "\(reason)"])
        }
    }

    /// Whether new files may go here: healthy, or unhealthy and a probe write, due every `probeIntervalMs`,
    /// succeeds now (the directory is healthy again).
    func acceptsNewFiles(probeIntervalMs: Int) -> Bool {
        // A probe would hang behind the stalled call: wait until it returns.
        if isStalled {
            markUnhealthy(stallError())
            return false
        }
        let due = unhealthy.withLock { state -> Bool? in
            guard let current = state else { return nil }
            let nowMs = Monotonic.nowMs()
            guard nowMs >= current.lastProbeMs + UInt64(probeIntervalMs) else { return false }
            state = (current.reason, nowMs)
            return true
        }
        guard let due else { return true }
        guard due else { return false }
        do {
            try Self.proveWritable(path, fileSystem: fileSystem)
        } catch {
            return false
        }
        unhealthy.withLock { $0 = nil }
        logger.info("storage directory healthy again", metadata: ["storage.dir": "\(path)"])
        return true
    }

    /// Creates, writes, reads back and removes a probe file, so a directory the worker cannot write is refused
    /// at start-up with its reason rather than failing the first push.
    private static func proveWritable(_ root: String, fileSystem: any SystemCalls) throws(StorageError) {
        let probe = root + "/.sluice-write-probe"
        do throws(SystemCallError) {
            let fd = try fileSystem.open(path: probe, flags: O_RDWR | O_CREAT | O_TRUNC, mode: 0o644)
            defer { fileSystem.close(fd: fd) }
            try fileSystem.writeFully(fd: fd, slice: [0x53][...], offsetBytes: 0)
            try fileSystem.unlink(path: probe)
        } catch {
            throw StorageError.system(error, operation: "write probe", path: probe)
        }
    }

    func shuffleDirectory(applicationId: String, shuffleId: UInt32) -> String {
        path + "/" + applicationId + "/" + String(shuffleId)
    }

    func filePath(_ key: PartitionFileKey) -> String {
        shuffleDirectory(applicationId: key.applicationId, shuffleId: key.shuffleId) + "/" + key.fileName
    }

    /// Creates the key's file (a recycled one when the pool has one) and returns its path and descriptor.
    /// Throws `.alreadyExists` when a file not held by the store is in the way.
    func createFile(_ key: PartitionFileKey) throws(StorageError) -> (path: String, fd: Int32) {
        try makeDirectory(path + "/" + key.applicationId)
        try makeDirectory(shuffleDirectory(applicationId: key.applicationId, shuffleId: key.shuffleId))
        let filePath = filePath(key)
        if let fd = recycler.take(path: filePath) { return (filePath, fd) }
        do throws(SystemCallError) {
            let fd = try watched { () throws(SystemCallError) in
                try fileSystem.open(path: filePath, flags: O_RDWR | O_CREAT | O_EXCL, mode: 0o644)
            }
            return (filePath, fd)
        } catch  where error.errno == EEXIST {
            throw StorageError(
                .alreadyExists, errno: EEXIST,
                message: "partition file exists but is not held (run recover() first)", path: filePath)
        } catch {
            throw StorageError.system(error, operation: "create", path: filePath)
        }
    }

    /// Deletes every file of a shuffle (recycling what it can) and its directory; counts deleted files.
    func deleteShuffle(applicationId: String, shuffleId: UInt32, deletedFiles: inout Int) -> StorageError? {
        removeTree(shuffleDirectory(applicationId: applicationId, shuffleId: shuffleId), deletedFiles: &deletedFiles)
    }

    /// Deletes every file of an application and its directories; counts deleted files.
    func deleteApplication(applicationId: String, deletedFiles: inout Int) -> StorageError? {
        removeTree(path + "/" + applicationId, deletedFiles: &deletedFiles)
    }

    /// statvfs of the directory.
    func diskSpace() throws(StorageError) -> DiskSpace {
        do {
            let space = try fileSystem.spaceBytes(path: path)
            return DiskSpace(freeBytes: space.freeBytes, capacityBytes: space.capacityBytes)
        } catch {
            throw StorageError.system(error, operation: "statvfs", path: path)
        }
    }

    /// mkdir -p for `path`.
    private static func makeDirectories(_ path: String, fileSystem: any SystemCalls) throws(StorageError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            try makeDirectory(prefix, fileSystem: fileSystem)
        }
    }

    /// mkdir for `path`; an existing directory is fine.
    func makeDirectory(_ path: String) throws(StorageError) {
        try Self.makeDirectory(path, fileSystem: fileSystem)
    }

    private static func makeDirectory(_ path: String, fileSystem: any SystemCalls) throws(StorageError) {
        do throws(SystemCallError) {
            try fileSystem.makeDirectory(path: path)
        } catch  where error.errno == EEXIST {
            return
        } catch {
            throw StorageError.system(error, operation: "mkdir", path: path)
        }
    }

    /// Removes a directory tree (files and directories); a missing tree is not an error.
    /// Returns the first failure after trying everything.
    func removeTree(_ path: String, deletedFiles: inout Int) -> StorageError? {
        let entries: [DirectoryEntry]
        do throws(SystemCallError) {
            entries = try fileSystem.listDirectory(path: path)
        } catch  where error.errno == ENOENT {
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
            } catch  where error.errno == ENOENT {
                continue
            } catch {
                logger.warning("cannot delete partition file", metadata: ["path": "\(child)", "error": "\(error)"])
                firstError = firstError ?? StorageError.system(error, operation: "unlink", path: child)
            }
        }
        do throws(SystemCallError) {
            try fileSystem.removeDirectory(path: path)
        } catch  where error.errno == ENOENT {
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
