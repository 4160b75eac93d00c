/// Chooses the directory for a new partition file: the fastest tier that has a directory below its high
/// watermark, and within that tier the directory with the most room (so files spread over a tier's disks).
/// When every directory is past its high watermark, the one with the most room left under its capacity; when none
/// has room, `.noSpace` (the client moves the partition to another worker).
/// Unhealthy directories are skipped (and probed, at most every `probeIntervalMs`, to bring them back).
struct VolumePlacement: Sendable {
    /// Fastest tier first.
    let volumes: [Volume]
    let probeIntervalMs: Int

    func volumeForNewFile(_ key: PartitionFileKey) throws(StorageError) -> Volume {
        var fallback: (volume: Volume, roomBytes: Int)?
        var best: (volume: Volume, roomBytes: Int)?
        for volume in volumes {
            if let best, volume.tierIndex > best.volume.tierIndex { break }
            guard volume.acceptsNewFiles(probeIntervalMs: probeIntervalMs) else { continue }
            let room: Int
            do {
                room = try volume.roomBytes()
            } catch {
                if error.isFileSystemFailure { volume.markUnhealthy(error) }
                continue
            }
            guard room > 0 else { continue }
            if volume.usedBytes < volume.highWatermarkBytes, room > best?.roomBytes ?? 0 {
                best = (volume, room)
            }
            if room > fallback?.roomBytes ?? 0 { fallback = (volume, room) }
        }
        if let chosen = best ?? fallback { return chosen.volume }
        throw StorageError(
            .noSpace, message: "no storage directory has room for partition \(key)",
            path: volumes.first?.path ?? "")
    }
}
