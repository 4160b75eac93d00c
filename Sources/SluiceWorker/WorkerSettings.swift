import SluiceConfig
import SluiceCore
import SluiceNet
import SluiceStorage
import SluiceSystem

// The worker's one settings-mapping file: how each library's settings come from the `WorkerConfig` (whose every
// default lives in the config registry). Libraries carry no defaults of their own for these values.

extension StoreConfig {
    /// The store settings of a worker running `config`. The flush-buffer pool takes at most an eighth of the
    /// memory budget, so a small budget is not all pooled buffers.
    init(_ config: WorkerConfig) {
        self.init(
            flushBufferBytes: config.flushBufferBytes, chunkTargetBytes: config.chunkTargetBytes,
            softLimitBytes: config.partitionSoftLimitBytes, hardLimitBytes: config.partitionHardLimitBytes,
            fsyncOnFlush: config.fsyncOnFlush, recycledFilesMax: config.recycledFilesMax,
            spareFilesAtStart: config.spareFilesAtStart,
            flushBufferPoolBytes: min(config.flushBufferPoolBytes, config.memoryBudgetBytes / 8),
            healthProbeIntervalMs: config.storageProbeIntervalMs,
            stallTimeoutMs: config.storageStallTimeoutMs, demotionIdleMs: config.demotionIdleMs)
    }
}

extension FrameServerConfig {
    /// The data listener of a worker running `config`. Other workers (replication) are exempt from the memory
    /// budget's pause; see docs/architecture.md. The receive-buffer pool, like the flush-buffer pool, takes at most an
    /// eighth of the memory budget.
    init(worker config: WorkerConfig, memoryBudget: MemoryBudget) {
        self.init(
            host: config.host, port: config.port, serverId: "sluice-worker", maxConnections: config.maxConnections,
            maxConnectionsPerPeer: config.maxConnectionsPerPeer,
            maxFrameBodyBytes: config.maxFrameBodyBytes, idleTimeoutMs: config.idleTimeoutMs,
            maxInFlightRequestsPerConnection: config.maxInFlightRequestsPerConnection,
            memoryBudget: memoryBudget)
        budgetExemptRoles = [.worker]
        let poolBytes = min(config.receiveBufferPoolBytes, config.memoryBudgetBytes / 8)
        if poolBytes > 0 {
            receiveBuffers = ReceiveBufferPool(
                minimumBytes: Self.reusedBodyMinimumBytes, maxCount: .max, maxPooledBytes: poolBytes)
        }
    }

    /// Request bodies below this are left to malloc, which serves them from its heap without a mapping of their own.
    static let reusedBodyMinimumBytes = 64 * 1024
}

extension FrameClientConfig {
    /// The connections a worker opens to its replicas.
    init(replicationOf config: WorkerConfig) {
        self.init(requestTimeoutMs: config.replicationTimeoutMs, maxFrameBodyBytes: config.maxFrameBodyBytes)
    }
}
