import CSluiceShim
import Logging
import SluiceConfig
import SluiceCore
import SluiceSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The crash-safe manifest of one `ebs` or `fsx` directory: an append-only log of `ManifestRecord`s at
/// `<dir>/.sluice-manifest`, one record each time a file's bytes are written out (which chunks it has, so up to
/// which offset it holds whole batches) and one per deleted shuffle or application. Each record is
/// length-prefixed and CRC32C-checked; reading stops at the first bad one (a torn last record is ignored and cut
/// off). Once it holds many dead (superseded) records the log is compacted: the live entries are written to a
/// temporary file, fdatasynced, renamed over the log, and the directory is fsynced; a crash at any step leaves the
/// old log or the new one, both whole. With `syncEachRecord` every record is fdatasynced as it is written.
/// A restarted worker (or one adopting a lost worker's directory) trusts an entry for a file at least as long as
/// the entry says, so it reads no byte of the file's valid prefix. A write that fails turns the manifest off for
/// the run and removes it, so recovery falls back to scanning rather than trusting a stale log.
final class ManifestLog: Sendable {
    /// The log's file name inside its directory.
    static let fileName = ".sluice-manifest"
    /// The compaction's temporary file name.
    static let temporaryName = ".sluice-manifest.tmp"
    /// Compaction waits until this many records are dead, and at least as many as the live entries.
    static let compactionMinDeadRecords = 4096

    /// The log file.
    let path: String
    let directory: String
    private let fileSystem: any SystemCalls
    private let logger: Logger
    private let syncEachRecord: Bool
    private let compactionMinDeadRecords: Int
    private let log: Mutex<LogState>

    private struct LogState: Sendable {
        var fd: Int32?
        var endBytes: Int
        var state: ManifestState
        /// False once a write failed: no more records this run.
        var enabled = true
        var compactions = 0
    }

    /// Opens the directory's log (creating it when missing), reads every whole record, cuts a torn tail off and
    /// removes a compaction's leftover temporary file.
    /// - Throws: `StorageError` when the log cannot be opened, read or cut.
    init(
        directory: String, fileSystem: any SystemCalls, logger: Logger, syncEachRecord: Bool,
        compactionMinDeadRecords: Int = ManifestLog.compactionMinDeadRecords
    ) throws(StorageError) {
        self.directory = directory
        path = directory + "/" + Self.fileName
        self.fileSystem = fileSystem
        self.logger = logger
        self.syncEachRecord = syncEachRecord
        self.compactionMinDeadRecords = max(compactionMinDeadRecords, 1)
        try? fileSystem.unlink(path: directory + "/" + Self.temporaryName)
        let fd: Int32
        do throws(SystemCallError) {
            fd = try fileSystem.open(path: path, flags: O_RDWR | O_CREAT, mode: 0o644)
        } catch {
            throw StorageError.system(error, operation: "open manifest", path: path)
        }
        let read: (state: ManifestState, validBytes: Int, fileBytes: Int)
        do throws(StorageError) {
            read = try Self.readRecords(fd: fd, path: path, fileSystem: fileSystem)
            if read.validBytes < read.fileBytes {
                logger.warning(
                    "ignoring torn tail of storage manifest",
                    metadata: ["path": "\(path)", "bytes": "\(read.fileBytes - read.validBytes)"])
                do throws(SystemCallError) {
                    try fileSystem.truncate(fd: fd, lengthBytes: read.validBytes)
                } catch {
                    throw StorageError.system(error, operation: "ftruncate manifest", path: path)
                }
            }
        } catch {
            fileSystem.close(fd: fd)
            throw error
        }
        log = Mutex(LogState(fd: fd, endBytes: read.validBytes, state: read.state))
    }

    deinit {
        if let fd = log.withLock({ $0.fd }) { fileSystem.close(fd: fd) }
    }

    /// What the log says, file by file.
    var entries: [PartitionFileKey: ManifestEntry] { log.withLock { $0.state.entries } }

    /// Records read or appended since the log was last written whole.
    var recordCount: Int { log.withLock { $0.state.recordCount } }

    /// Compactions done since it was opened.
    var compactionCount: Int { log.withLock { $0.compactions } }

    /// False once a write failed (the log was removed; recovery will scan).
    var isEnabled: Bool { log.withLock { $0.enabled } }

    /// Records that `key`'s file holds the batches of `index` (called when its bytes were written out). The chunks
    /// from the last one recorded on are written again (it may have grown); nothing is written when nothing changed.
    func written(_ key: PartitionFileKey, _ index: ChunkIndexBuilder) {
        log.withLock { log in
            guard log.enabled else { return }
            let chunks = index.snapshot()
            let known = log.state.entries[key]?.chunks ?? []
            let first = max(0, min(known.count, chunks.count) - 1)
            guard known.count != chunks.count || chunks[first...] != known[first...] else { return }
            append(.written(key: key, firstChunk: first, chunks: Array(chunks[first...])), to: &log)
        }
    }

    /// Records that `key`'s file left the directory (it was demoted to another tier).
    func fileRemoved(_ key: PartitionFileKey) {
        log.withLock { log in
            guard log.enabled, log.state.entries[key] != nil else { return }
            append(.fileRemoved(key: key), to: &log)
        }
    }

    /// Records that every file of a shuffle was deleted.
    func shuffleRemoved(applicationId: String, shuffleId: UInt32) {
        log.withLock { log in
            guard log.enabled,
                log.state.entries.keys.contains(where: {
                    $0.applicationId == applicationId && $0.shuffleId == shuffleId
                })
            else { return }
            append(.shuffleRemoved(applicationId: applicationId, shuffleId: shuffleId), to: &log)
        }
    }

    /// Records that every file of an application was deleted.
    func applicationRemoved(applicationId: String) {
        log.withLock { log in
            guard log.enabled, log.state.entries.keys.contains(where: { $0.applicationId == applicationId }) else {
                return
            }
            append(.applicationRemoved(applicationId: applicationId), to: &log)
        }
    }

    /// Writes the log whole with exactly `entries` (after recovery: the files found, with what was recovered of
    /// each), through the same temporary-file-and-rename steps as a compaction.
    func rewrite(_ entries: [PartitionFileKey: ManifestEntry]) {
        log.withLock { log in
            guard log.enabled else { return }
            var state = ManifestState()
            state.entries = entries
            state.recordCount = entries.count
            compact(&log, into: state)
        }
    }

    // MARK: - Under the lock

    private func append(_ record: ManifestRecord, to log: inout LogState) {
        guard let fd = log.fd else { return }
        let bytes = record.framed
        do throws(SystemCallError) {
            try fileSystem.writeFully(fd: fd, slice: bytes[...], offsetBytes: log.endBytes)
            if syncEachRecord { try fileSystem.fsync(fd: fd) }
        } catch {
            disable(&log, StorageError.system(error, operation: "append to manifest", path: path))
            return
        }
        log.endBytes += bytes.count
        log.state.apply(record)
        let dead = log.state.deadRecordCount
        if dead >= compactionMinDeadRecords && dead >= log.state.entries.count {
            compact(&log, into: log.state)
        }
    }

    /// Writes `state`'s entries to the temporary file, fdatasyncs it, renames it over the log and fsyncs the
    /// directory. A failure before the rename leaves the old log in use (the next compaction is tried after as many
    /// records again); a failure after it turns the manifest off.
    private func compact(_ log: inout LogState, into state: ManifestState) {
        let temporary = directory + "/" + Self.temporaryName
        var bytes: [UInt8] = []
        for (key, entry) in state.entries {
            bytes.append(contentsOf: ManifestRecord.written(key: key, firstChunk: 0, chunks: entry.chunks).framed)
        }
        do throws(SystemCallError) {
            let fd = try fileSystem.open(path: temporary, flags: O_RDWR | O_CREAT | O_TRUNC, mode: 0o644)
            do throws(SystemCallError) {
                try fileSystem.writeFully(fd: fd, slice: bytes[...], offsetBytes: 0)
                try fileSystem.fsync(fd: fd)
            } catch {
                fileSystem.close(fd: fd)
                throw error
            }
            fileSystem.close(fd: fd)
            try fileSystem.rename(from: temporary, to: path)
        } catch {
            try? fileSystem.unlink(path: temporary)
            logger.warning(
                "storage manifest compaction failed; keeping the current log",
                metadata: ["path": "\(path)", "error": "\(error.errnoDescription)"])
            // Try again once as many records were appended again.
            log.state.recordCount = log.state.entries.count
            return
        }
        if let old = log.fd { fileSystem.close(fd: old) }
        log.fd = nil
        do throws(SystemCallError) {
            syncDirectory()
            log.fd = try fileSystem.open(path: path, flags: O_RDWR, mode: 0)
        } catch {
            disable(&log, StorageError.system(error, operation: "reopen manifest", path: path))
            return
        }
        log.endBytes = bytes.count
        log.state = state
        log.state.recordCount = state.entries.count
        log.compactions += 1
    }

    /// fsyncs the directory so the rename is durable; a file system that cannot is left as it is.
    private func syncDirectory() {
        guard let fd = try? fileSystem.open(path: directory, flags: O_RDONLY | O_DIRECTORY, mode: 0) else { return }
        try? fileSystem.fsync(fd: fd)
        fileSystem.close(fd: fd)
    }

    /// Stops recording for this run and removes the log, so a restart scans instead of trusting a stale one.
    private func disable(_ log: inout LogState, _ error: StorageError) {
        logger.error(
            "storage manifest write failed; recovery of this directory will scan its files",
            metadata: ["path": "\(path)", "error": "\(error)"])
        log.enabled = false
        if let fd = log.fd { fileSystem.close(fd: fd) }
        log.fd = nil
        try? fileSystem.unlink(path: path)
    }

    /// Reads records from the start until the end or the first that is torn, too long or fails its checksum.
    private static func readRecords(fd: Int32, path: String, fileSystem: any SystemCalls) throws(StorageError)
        -> (state: ManifestState, validBytes: Int, fileBytes: Int)
    {
        let fileBytes: Int
        var bytes: [UInt8]
        do throws(SystemCallError) {
            fileBytes = try fileSystem.fileSizeBytes(fd: fd)
            bytes = [UInt8](repeating: 0, count: fileBytes)
            let read = try fileSystem.readFully(fd: fd, into: &bytes, count: fileBytes, offsetBytes: 0)
            bytes.removeSubrange(read...)
        } catch {
            throw StorageError.system(error, operation: "read manifest", path: path)
        }
        var state = ManifestState()
        var offset = 0
        while bytes.count - offset >= ManifestRecord.headerBytes {
            var reader = WireReader(bytes[offset..<(offset + ManifestRecord.headerBytes)])
            guard let length = try? reader.readU32("length"), let crc = try? reader.readU32("crc32c"),
                Int(length) <= ManifestRecord.maxBodyBytes,
                offset + ManifestRecord.headerBytes + Int(length) <= bytes.count
            else { break }
            let body = bytes[
                (offset + ManifestRecord.headerBytes)..<(offset + ManifestRecord.headerBytes + Int(length))]
            guard body.withUnsafeBytes({ sluice_crc32c(0, $0.baseAddress, $0.count) }) == crc else { break }
            if let record = ManifestRecord.decode(body: body) { state.apply(record) }
            offset += ManifestRecord.headerBytes + Int(length)
        }
        return (state, offset, fileBytes)
    }
}

extension StorageTierConfig.Kind {
    /// Whether a directory of this kind keeps a manifest: `ebs` and `fsx` outlive the worker process and its node
    /// (a restarted or replacement worker, or another worker, picks their files up), so their start-up must not
    /// read every byte. `nvme` is lost with the node; its files are covered by replicas, and a restart on the same
    /// node scans them (fast local disks), so its hot path pays no manifest record per write-out.
    var keepsManifest: Bool { self != .nvme }
}
