import CSluiceShim
import Logging
import SluiceCore
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

/// What `DirectoryPartitionStore.recover()` found.
public struct RecoveryReport: Sendable, Equatable {
    /// Files now held (including damaged ones, with their valid prefix).
    public var recovered: [HeldPartitionFile] = []
    /// Files whose tail was torn (a partial last batch from a crash) and truncated away.
    public var truncatedTails: [DamagedFile] = []
    /// Files with an invalid batch before their end: the valid prefix is served, appends are refused.
    public var corruptFiles: [DamagedFile] = []
    /// Entries that are not partition files or could not be opened, left alone.
    public var skippedPaths: [String] = []
    /// Files whose valid prefix came from their directory's manifest (no byte of it read); only bytes past it,
    /// if any, were scanned.
    public var fromManifest = 0
    /// Files scanned from their first byte (no manifest, no entry, or an entry longer than the file).
    public var scannedFromStart = 0

    /// Creates an empty report.
    public init() {}
}

/// A partition file whose bytes were not all valid.
public struct DamagedFile: Sendable, Equatable {
    /// The file.
    public var path: String
    /// Bytes of whole, valid batches at the start of the file.
    public var validBytes: Int
    /// Bytes after the valid prefix (dropped for a torn tail, left in place for corruption).
    public var invalidBytes: Int
    /// Why the scan stopped.
    public var reason: String

    /// Creates a description.
    public init(path: String, validBytes: Int, invalidBytes: Int, reason: String) {
        self.path = path
        self.validBytes = validBytes
        self.invalidBytes = invalidBytes
        self.reason = reason
    }
}

extension DirectoryPartitionStore {
    /// Scans every directory for partition files a previous run left, rebuilds each one's chunk index by
    /// walking and validating its batch headers and CRC32C checksums, truncates torn tails, and holds
    /// the files (damaged ones keep their valid prefix and refuse appends). Call once at start-up.
    public func recover() throws(StorageError) -> RecoveryReport {
        var report = RecoveryReport()
        cleanUpInterruptedMoves()
        for volume in volumes { try recover(volume, into: &report) }
        logger.info(
            "recovered partition files",
            metadata: [
                "files": "\(report.recovered.count)", "truncated": "\(report.truncatedTails.count)",
                "corrupt": "\(report.corruptFiles.count)", "skipped": "\(report.skippedPaths.count)",
                "from.manifest": "\(report.fromManifest)", "scanned": "\(report.scannedFromStart)",
            ])
        return report
    }

    func recover(_ volume: Volume, into report: inout RecoveryReport) throws(StorageError) {
        let manifest = volume.manifest?.entries ?? [:]
        var found: [PartitionFileKey: ManifestEntry] = [:]
        for application in try list(volume.path) {
            let applicationPath = volume.path + "/" + application.name
            if application.name == FileRecycler.directoryName || application.name == ManifestLog.fileName
                || application.name == ManifestLog.temporaryName
            {
                continue
            }
            guard application.isDirectory,
                (try? PartitionFileKey.validateApplicationId(application.name)) != nil
            else {
                report.skippedPaths.append(applicationPath)
                continue
            }
            for shuffle in try list(applicationPath) {
                let shufflePath = applicationPath + "/" + shuffle.name
                guard shuffle.isDirectory, let shuffleId = UInt32(shuffle.name), String(shuffleId) == shuffle.name
                else {
                    report.skippedPaths.append(shufflePath)
                    continue
                }
                for file in try list(shufflePath) {
                    recoverFile(
                        applicationId: application.name, shuffleId: shuffleId, entry: file, in: volume,
                        manifest: manifest, found: &found, into: &report)
                }
            }
        }
        // The log is written again with exactly what was recovered: scanned files join it, vanished ones leave it.
        volume.manifest?.rewrite(found)
    }

    private func list(_ path: String) throws(StorageError) -> [DirectoryEntry] {
        do throws(SystemCallError) {
            return try fileSystem.listDirectory(path: path).sorted { $0.name < $1.name }
        } catch {
            throw StorageError.system(error, operation: "list directory", path: path)
        }
    }

    private func recoverFile(
        applicationId: String, shuffleId: UInt32, entry: DirectoryEntry, in volume: Volume,
        manifest: [PartitionFileKey: ManifestEntry], found: inout [PartitionFileKey: ManifestEntry],
        into report: inout RecoveryReport
    ) {
        let shufflePath = volume.shuffleDirectory(applicationId: applicationId, shuffleId: shuffleId)
        let path = shufflePath + "/" + entry.name
        guard !entry.isDirectory, let parsed = PartitionFileKey.parseFileName(entry.name),
            parsed.partitionId.description + "-" + parsed.epoch.description + "-" + parsed.role.fileTag + ".data"
                == entry.name,
            let key = try? PartitionFileKey(
                applicationId: applicationId, shuffleId: shuffleId,
                partitionId: parsed.partitionId, epoch: parsed.epoch, role: parsed.role),
            existingWriter(key) == nil
        else {
            report.skippedPaths.append(path)
            return
        }
        let metadata: Logger.Metadata = [
            "shuffle.id": "\(shuffleId)", "partition.id": "\(parsed.partitionId)", "path": "\(path)",
        ]
        let fd: Int32
        do throws(SystemCallError) {
            fd = try fileSystem.open(path: path, flags: O_RDWR, mode: 0)
        } catch {
            logger.error(
                "cannot open partition file for recovery",
                metadata: metadata.merging(["error": "\(error.errnoDescription)"]) { $1 })
            report.skippedPaths.append(path)
            return
        }
        let scan = scanBatches(fd: fd, path: path, known: manifest[key])
        if scan.fromManifest { report.fromManifest += 1 } else { report.scannedFromStart += 1 }
        var failure = scan.ioFailure
        if let damage = scan.damage {
            let damaged = DamagedFile(
                path: path, validBytes: scan.index.fileBytes,
                invalidBytes: scan.fileBytes - scan.index.fileBytes, reason: damage.reason)
            if damage.isTornTail && failure == nil {
                logger.warning(
                    "truncating torn tail of partition file",
                    metadata: metadata.merging(["bytes": "\(damaged.invalidBytes)", "error": "\(damage.reason)"]) { $1 }
                )
                do throws(SystemCallError) {
                    try fileSystem.truncate(fd: fd, lengthBytes: scan.index.fileBytes)
                } catch {
                    failure = StorageError.system(error, operation: "ftruncate", path: path)
                }
                report.truncatedTails.append(damaged)
            } else {
                logger.error(
                    "partition file is corrupt; keeping its valid prefix",
                    metadata: metadata.merging(["bytes": "\(damaged.invalidBytes)", "error": "\(damage.reason)"]) { $1 }
                )
                failure = failure ?? StorageError(.corrupt, message: damage.reason, path: path)
                report.corruptFiles.append(damaged)
            }
        }
        let writer = PartitionFile(
            key: key, path: path, volume: volume, fd: fd, config: config,
            memoryBudget: memoryBudget,
            flushBuffers: flushBuffers, fileSystem: fileSystem, logger: logger, recovered: scan.index, failure: failure)
        guard files.adopt(writer) else {
            writer.discard()
            report.skippedPaths.append(path)
            return
        }
        volume.account(scan.index.fileBytes)
        found[key] = ManifestEntry(chunks: scan.index.snapshot())
        report.recovered.append(HeldPartitionFile(key: key, fileBytes: scan.index.fileBytes, isFailed: failure != nil))
    }

    struct Damage {
        var reason: String
        /// True when the bad bytes can only be the unfinished end of the file.
        var isTornTail: Bool
    }

    struct Scan {
        var index: ChunkIndexBuilder
        var fileBytes: Int
        var damage: Damage?
        var ioFailure: StorageError?
        /// The valid prefix came from the manifest.
        var fromManifest = false
    }

    /// Walks the batches of a file, stopping at the first invalid one: from the end of what the manifest vouches
    /// for (`known`) when the file is at least that long, else from offset 0.
    func scanBatches(fd: Int32, path: String, known: ManifestEntry? = nil) -> Scan {
        var scan = Scan(index: ChunkIndexBuilder(chunkTargetBytes: config.chunkTargetBytes), fileBytes: 0)
        do throws(SystemCallError) {
            scan.fileBytes = try fileSystem.fileSizeBytes(fd: fd)
        } catch {
            scan.ioFailure = StorageError.system(error, operation: "fstat", path: path)
            return scan
        }
        if let known, known.validBytes <= scan.fileBytes {
            scan.index = ChunkIndexBuilder(chunkTargetBytes: config.chunkTargetBytes, restoring: known.chunks)
            scan.fromManifest = true
        }
        var offset = scan.index.fileBytes
        guard offset < scan.fileBytes else { return scan }
        var headerBytes = [UInt8](repeating: 0, count: BatchHeader.byteCount)
        // Sized to what there is to read: a megabyte zeroed per small file was a large part of a start-up.
        var payloadBuffer = [UInt8](repeating: 0, count: min(1 << 20, scan.fileBytes - offset))
        while offset < scan.fileBytes {
            let left = scan.fileBytes - offset
            guard left >= BatchHeader.byteCount else {
                scan.damage = Damage(
                    reason: "partial batch header of \(left) bytes at offset \(offset)", isTornTail: true)
                break
            }
            do throws(SystemCallError) {
                let read = try fileSystem.readFully(
                    fd: fd, into: &headerBytes, count: BatchHeader.byteCount,
                    offsetBytes: offset)
                guard read == BatchHeader.byteCount else { throw SystemCallError(errno: EIO) }
            } catch {
                scan.ioFailure = StorageError.system(error, operation: "pread", path: path)
                break
            }
            if headerBytes.allSatisfy({ $0 == 0 }) {
                // A crash after the size grew but before the data blocks landed leaves zeros.
                scan.damage = Damage(reason: "zero-filled bytes at offset \(offset)", isTornTail: true)
                break
            }
            var reader = WireReader(headerBytes)
            let header: BatchHeader
            do throws(ProtocolError) {
                header = try BatchHeader.decode(from: &reader)
            } catch {
                scan.damage = Damage(
                    reason: "invalid batch header at offset \(offset): \(error.message)", isTornTail: false)
                break
            }
            let storedBytes = Int(header.storedLength)
            let end = offset + BatchHeader.byteCount + storedBytes
            guard end <= scan.fileBytes else {
                scan.damage = Damage(
                    reason: "batch at offset \(offset) needs \(storedBytes) payload bytes, file ends first",
                    isTornTail: true)
                break
            }
            let crc: UInt32
            do throws(SystemCallError) {
                crc = try checksum(
                    fd: fd, offsetBytes: offset + BatchHeader.byteCount, lengthBytes: storedBytes,
                    buffer: &payloadBuffer)
            } catch {
                scan.ioFailure = StorageError.system(error, operation: "pread", path: path)
                break
            }
            guard crc == header.crc32c else {
                scan.damage = Damage(
                    reason: "CRC32C mismatch in batch at offset \(offset)", isTornTail: end == scan.fileBytes)
                break
            }
            scan.index.add(
                mapIndex: header.mapIndex, uncompressed: header.codec == .none,
                encodedBytes: BatchHeader.byteCount + storedBytes)
            offset = end
        }
        return scan
    }

    private func checksum(
        fd: Int32, offsetBytes: Int, lengthBytes: Int,
        buffer: inout [UInt8]
    ) throws(SystemCallError) -> UInt32 {
        var crc: UInt32 = 0
        var done = 0
        while done < lengthBytes {
            let piece = min(buffer.count, lengthBytes - done)
            let position = offsetBytes + done
            let read = try fileSystem.readFully(fd: fd, into: &buffer, count: piece, offsetBytes: position)
            crc = buffer.withUnsafeBytes { sluice_crc32c(crc, $0.baseAddress, read) }
            guard read == piece else { throw SystemCallError(errno: EIO) }
            done += piece
        }
        return crc
    }
}
