import Logging
import SluiceCore
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

extension DirectoryPartitionStore: TierDemoting {
    /// The suffix of a copy being moved in (`<file>.moving` in the destination); recovery deletes leftovers.
    static let movingSuffix = ".moving"

    /// Moves idle files (no append for `demotionIdleMs`), oldest-idle first and then largest, out of each directory
    /// above its tier's high watermark into the nearest later tier with a healthy directory below its own high
    /// watermark, until the directory is back at or under its low watermark. See docs/storage.md ("Demotion").
    /// - Parameters:
    ///   - maxBytes: no new move starts once this many source bytes were moved.
    ///   - pacer: asked before each copied piece (rate bound, stop); nil copies at full speed.
    public func demote(maxBytes: Int = .max, pacer: (any DemotionPacer)? = nil) -> DemotionReport {
        demotion.serial.withLock { _ in
            var report = DemotionReport()
            for volume in volumes where volume.tierIndex < volumes[volumes.count - 1].tierIndex {
                guard !report.stopped, report.sourceBytes < maxBytes else { break }
                // A stalled directory's files would hang the copy; they wait until it answers again.
                guard !volume.isStalled, demotion.shouldDrain(volume) else { continue }
                drain(volume, maxBytes: maxBytes, pacer: pacer, into: &report)
                _ = demotion.shouldDrain(volume)
            }
            return report
        }
    }

    /// Moves candidates out of `volume` while it is above its low watermark.
    private func drain(
        _ volume: Volume, maxBytes: Int, pacer: (any DemotionPacer)?, into report: inout DemotionReport
    ) {
        for file in candidates(in: volume) {
            guard !report.stopped, report.sourceBytes < maxBytes, volume.usedBytes > volume.lowWatermarkBytes
            else { return }
            guard let destination = destination(after: volume, bytes: file.fileBytes) else { return }
            switch Result(catching: { () throws(StorageError) -> MoveOutcome in
                try move(file, to: destination, pacer: pacer)
            }) {
            case .success(.moved(let moved)):
                report.moved.append(moved)
                logger.info(
                    "demoted partition file",
                    metadata: [
                        "partition.key": "\(moved.key)", "from": "\(moved.fromDirectory)",
                        "to": "\(moved.toDirectory)", "bytes": "\(moved.sourceBytes)",
                        "bytes.moved": "\(moved.movedBytes)", "batches.reencoded": "\(moved.reencodedBatches)",
                    ])
            case .success(.changed): report.abandonedMoves += 1
            case .success(.stopped): report.stopped = true
            case .failure(let error):
                report.failedMoves += 1
                demotion.bookkeeping.withLock { $0.failedAtMs[file.key] = Monotonic.nowMs() }
                // A write that fails on the destination's disk keeps new files away from it too; ENOENT there is a
                // delete of the shuffle that raced the move, not the disk.
                if error.isFileSystemFailure, error.errno != ENOENT, error.path.hasPrefix(destination.path + "/") {
                    destination.markUnhealthy(error)
                }
                logger.warning(
                    "partition file demotion failed; it stays where it is",
                    metadata: ["partition.key": "\(file.key)", "to": "\(destination.path)", "error": "\(error)"])
            }
        }
    }

    /// The files of `volume` idle for `demotionIdleMs` (and not failed to move within that time), oldest-idle
    /// first, then largest.
    private func candidates(in volume: Volume) -> [PartitionFile] {
        let nowMs = Monotonic.nowMs()
        let idleMs = UInt64(config.demotionIdleMs)
        let failed = demotion.bookkeeping.withLock { b in
            b.failedAtMs = b.failedAtMs.filter { nowMs < $0.value + idleMs }
            return b.failedAtMs
        }
        return files.all()
            .filter { $0.volume === volume && failed[$0.key] == nil }
            .map { (file: $0, lastAppendMs: $0.lastAppendMs.load(ordering: .relaxed), bytes: $0.fileBytes) }
            .filter { $0.bytes > 0 && nowMs >= $0.lastAppendMs + idleMs }
            .sorted { ($0.lastAppendMs, -$0.bytes) < ($1.lastAppendMs, -$1.bytes) }
            .map(\.file)
    }

    /// The directory of the nearest later tier that is healthy and stays at or under its high watermark with
    /// `bytes` more (the one with the most room in that tier); nil when no later tier can take it.
    private func destination(after source: Volume, bytes: Int) -> Volume? {
        var best: (volume: Volume, roomBytes: Int)?
        for volume in volumes where volume.tierIndex > source.tierIndex {
            if let best, volume.tierIndex > best.volume.tierIndex { break }
            guard volume.isHealthy, !volume.isStalled, volume.usedBytes + bytes <= volume.highWatermarkBytes,
                let room = try? volume.roomBytes(), room >= bytes, room > best?.roomBytes ?? -1
            else { continue }
            best = (volume, room)
        }
        return best?.volume
    }

    private enum MoveOutcome {
        case moved(DemotedFile)
        case changed
        case stopped
    }

    /// Copies the file to `<destination>/.../<file>.moving`, fsyncs and verifies the copy (every batch header and
    /// CRC32C, its chunk index rebuilt), then switches the writer to it under the writer's lock (see
    /// `PartitionFile.finishMove`). Any other ending deletes the copy; the file stays where it was.
    private func move(
        _ file: PartitionFile, to destination: Volume, pacer: (any DemotionPacer)?
    ) throws(StorageError) -> MoveOutcome {
        guard let source = file.beginMove() else { return .changed }
        let key = file.key
        try destination.makeDirectory(destination.path + "/" + key.applicationId)
        try destination.makeDirectory(
            destination.shuffleDirectory(applicationId: key.applicationId, shuffleId: key.shuffleId))
        let finalPath = destination.filePath(key)
        let tempPath = finalPath + Self.movingSuffix
        let sourceFd = try openForMove(source.path, flags: O_RDONLY)
        defer { fileSystem.close(fd: sourceFd) }
        let tempFd = try openForMove(tempPath, flags: O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW)
        var switched = false
        defer {
            if !switched {
                fileSystem.close(fd: tempFd)
                try? fileSystem.unlink(path: tempPath)
            }
        }
        let copier = MoveCopier(
            fileSystem: fileSystem, sourceVolume: source.volume, sourceFd: sourceFd, sourcePath: source.path,
            targetVolume: destination, targetFd: tempFd, targetPath: tempPath, pacer: pacer)
        guard
            let copied = destination.reencodesToZstd
                ? try copier.reencode(bytes: source.fileBytes) : try copier.copy(bytes: source.fileBytes)
        else { return .stopped }
        do throws(SystemCallError) {
            try destination.watched { () throws(SystemCallError) in try fileSystem.fsync(fd: tempFd) }
        } catch {
            throw StorageError.system(error, operation: "fdatasync", path: tempPath)
        }
        let index = try verifiedIndex(fd: tempFd, path: tempPath, bytes: copied.bytes, batches: source.batchCount)
        switched = try file.finishMove(
            source, toPath: finalPath, volume: destination, fd: tempFd, index: index, fileSystem: fileSystem,
            logger: logger
        ) { () throws(StorageError) in
            try commitMove(
                in: destination, from: tempPath, to: finalPath,
                directory: destination.shuffleDirectory(
                    applicationId: key.applicationId, shuffleId: key.shuffleId))
        }
        guard switched else { return .changed }
        // The destination's manifest vouches for the copy before the source's forgets the file: a crash between
        // leaves an entry in the source for a file that is gone, which recovery drops.
        destination.manifest?.written(key, index)
        source.volume.manifest?.fileRemoved(key)
        return .moved(
            DemotedFile(
                key: key, fromDirectory: source.volume.path, fromTier: source.volume.tierIndex,
                fromKind: source.volume.kind.rawValue, toDirectory: destination.path, toTier: destination.tierIndex,
                sourceBytes: source.fileBytes, movedBytes: copied.bytes, reencodedBatches: copied.reencodedBatches))
    }

    private func openForMove(_ path: String, flags: Int32) throws(StorageError) -> Int32 {
        do throws(SystemCallError) {
            return try fileSystem.open(path: path, flags: flags, mode: 0o644)
        } catch {
            throw StorageError.system(error, operation: "open for demotion", path: path)
        }
    }

    /// Walks the copy's batches as recovery does (headers, CRC32C): it must be exactly `bytes` of valid batches,
    /// `batches` of them. Returns its chunk index.
    private func verifiedIndex(fd: Int32, path: String, bytes: Int, batches: Int) throws(StorageError)
        -> ChunkIndexBuilder
    {
        let scan = scanBatches(fd: fd, path: path)
        if let failure = scan.ioFailure { throw failure }
        let batchCount = scan.index.snapshot().reduce(0) { $0 + $1.batchCount }
        guard scan.damage == nil, scan.fileBytes == bytes, scan.index.fileBytes == bytes, batchCount == batches
        else {
            throw StorageError(
                .corrupt,
                message: "demoted copy did not verify: \(scan.damage?.reason ?? "") \(scan.index.fileBytes) of "
                    + "\(bytes) bytes, \(batchCount) of \(batches) batches",
                path: path)
        }
        return scan.index
    }

    /// Renames the verified copy to its final name and fsyncs the directory, so the rename is durable before the
    /// old copy is unlinked. When the directory fsync fails the final-named copy is removed again: a copy that
    /// outlives a move that did not switch could be older than the source after more appends.
    private func commitMove(
        in volume: Volume, from tempPath: String, to finalPath: String, directory: String
    ) throws(StorageError) {
        do throws(SystemCallError) {
            try volume.watched { () throws(SystemCallError) in try fileSystem.rename(from: tempPath, to: finalPath) }
        } catch {
            throw StorageError.system(error, operation: "rename", path: finalPath)
        }
        do throws(SystemCallError) {
            try volume.watched { () throws(SystemCallError) in
                let directoryFd = try fileSystem.open(path: directory, flags: O_RDONLY | O_DIRECTORY, mode: 0)
                defer { fileSystem.close(fd: directoryFd) }
                try fileSystem.fsync(fd: directoryFd)
            }
        } catch {
            try? fileSystem.unlink(path: finalPath)
            throw StorageError.system(error, operation: "fsync directory", path: directory)
        }
    }
}
