import Logging
import SluiceCore
import SluiceNet
import SluiceStorage
import SluiceSystem
import Synchronization

/// Watches the worker's memory budget on its own thread and, once use passes the low watermark, writes out flush
/// buffers (largest first) until use is back below it. Buffers are the one holder of budget bytes that does not
/// drain by itself when push connections are paused, so this is what keeps backpressure from becoming a stall.
/// Every quarter of `idleFlushMs` it also writes out the buffers of files idle that long (`worker.idleFlushTime`),
/// and at every check it has the store notice stalled directories.
final class PressureFlusher: Sendable {
    private let store: any PartitionStore
    private let budget: MemoryBudget
    private let logger: Logger
    private let checkIntervalMs: Int
    private let idleFlushMs: Int
    private let thread = PeriodicThread()
    /// When the next idle-file check is due (monotonic ms).
    private let nextIdleCheckMs = Atomic<UInt64>(0)

    init(
        store: any PartitionStore, budget: MemoryBudget, logger: Logger, idleFlushMs: Int,
        checkIntervalMs: Int = 10
    ) {
        self.store = store
        self.budget = budget
        self.logger = logger
        self.idleFlushMs = idleFlushMs
        self.checkIntervalMs = checkIntervalMs
    }

    func start() throws {
        // Flush down to a margin below the low watermark so a busy worker does not flush one buffer per check.
        let targetBytes = budget.lowWatermarkBytes * 4 / 5
        let idleCheckMs = UInt64(max(idleFlushMs / 4, checkIntervalMs))
        nextIdleCheckMs.store(Monotonic.nowMs() + idleCheckMs, ordering: .relaxed)
        try thread.start { [self] in
            store.noticeStalls()
            let nowMs = Monotonic.nowMs()
            if idleFlushMs > 0, nowMs >= nextIdleCheckMs.load(ordering: .relaxed) {
                nextIdleCheckMs.store(nowMs + idleCheckMs, ordering: .relaxed)
                store.flushIdleFiles(idleForMs: idleFlushMs)
            }
            if budget.usedBytes > budget.lowWatermarkBytes {
                let written = store.relieveMemoryPressure(downToBytes: targetBytes)
                if written > 0 {
                    logger.debug(
                        "flushed buffers under memory pressure",
                        metadata: [
                            "bytes": "\(written)",
                            "budget.used": "\(budget.usedBytes)",
                        ])
                }
            }
            return checkIntervalMs
        }
    }

    func stop() { thread.stop() }
}
