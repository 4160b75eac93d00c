import SluiceConfig
import SluiceCore

/// Tunables of a partition store.
public struct StoreConfig: Sendable, Equatable {
    /// Bytes a partition file buffers in memory before writing them out (accounted in the memory budget).
    public var flushBufferBytes: Int
    /// A chunk is closed before a batch that would take it past this size (a single larger batch is a chunk of its own).
    public var chunkTargetBytes: Int
    /// Above this file size appends still succeed but report `.storedSoftSplit`.
    public var softLimitBytes: Int
    /// A batch that would take a non-empty file past this size is refused with `.refusedHardSplit`.
    public var hardLimitBytes: Int
    /// fdatasync after every explicit flush and at close.
    public var fsyncOnFlush: Bool
    /// Deleted partition files kept (emptied) for reuse by new ones; 0 turns recycling off. See `FileRecycler`.
    public var recycledFilesMax: Int
    /// Empty files `createSpareFiles()` puts in each fastest-tier directory's pool (at most `recycledFilesMax`).
    public var spareFilesAtStart: Int
    /// Capacity of emptied flush buffers kept for reuse (outside the memory budget); 0 keeps none. See `FlushBufferPool`.
    public var flushBufferPoolBytes: Int
    /// How often a directory marked unhealthy is probed with a test write before it gets new files again.
    public var healthProbeIntervalMs: Int
    /// A write, fsync or open that has not returned after this long marks its directory stalled (unhealthy).
    public var stallTimeoutMs: Int
    /// A file with no append for this long may be demoted to the next tier (`DirectoryPartitionStore.demote`).
    public var demotionIdleMs: Int

    /// Batches at least this large bypass the flush buffer and are written out at once (after what the buffer holds):
    /// that saves copying every byte of the batch for at most two extra write calls. Half the flush buffer.
    public var directWriteMinBytes: Int { max(flushBufferBytes / 2, 1) }

    /// Creates a configuration; sizes below 1 are raised to 1. Every default is the config registry's (`WorkerKeys`).
    public init(
        flushBufferBytes: Int = WorkerKeys.flushBufferSize.defaultValue,
        chunkTargetBytes: Int = WorkerKeys.chunkTargetSize.defaultValue,
        softLimitBytes: Int = WorkerKeys.partitionSoftLimit.defaultValue,
        hardLimitBytes: Int = WorkerKeys.partitionHardLimit.defaultValue,
        fsyncOnFlush: Bool = WorkerKeys.fsyncOnFlush.defaultValue,
        recycledFilesMax: Int = WorkerKeys.recycledFilesMax.defaultValue,
        spareFilesAtStart: Int = WorkerKeys.spareFilesAtStart.defaultValue,
        flushBufferPoolBytes: Int = WorkerKeys.flushBufferPoolSize.defaultValue,
        healthProbeIntervalMs: Int = WorkerKeys.storageProbeInterval.defaultValue,
        stallTimeoutMs: Int = WorkerKeys.storageStallTimeout.defaultValue,
        demotionIdleMs: Int = WorkerKeys.demotionIdleTime.defaultValue
    ) {
        self.flushBufferBytes = max(flushBufferBytes, 1)
        self.chunkTargetBytes = max(chunkTargetBytes, 1)
        self.softLimitBytes = max(softLimitBytes, 1)
        self.hardLimitBytes = max(hardLimitBytes, 1)
        self.fsyncOnFlush = fsyncOnFlush
        self.recycledFilesMax = max(recycledFilesMax, 0)
        self.spareFilesAtStart = max(spareFilesAtStart, 0)
        self.flushBufferPoolBytes = max(flushBufferPoolBytes, 0)
        self.healthProbeIntervalMs = max(healthProbeIntervalMs, 0)
        self.stallTimeoutMs = max(stallTimeoutMs, 1)
        self.demotionIdleMs = max(demotionIdleMs, 0)
    }
}

/// What happened to an appended batch.
public enum AppendOutcome: Sendable, Equatable {
    /// Stored.
    case stored
    /// Stored, and the file is now at or above its soft limit: the client should split (new epoch).
    case storedSoftSplit
    /// NOT stored: the batch would take the file past its hard limit.
    case refusedHardSplit
}
