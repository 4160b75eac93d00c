import Logging
import SluiceCore
import SluiceNet
import SluiceStorage
import SluiceSystem

/// Watches the worker's memory budget on its own thread and, once use passes the low watermark, writes out flush
/// buffers (largest first) until use is back below it. Buffers are the one holder of budget bytes that does not
/// drain by itself when push connections are paused, so this is what keeps backpressure from becoming a stall.
final class PressureFlusher: Sendable {
    private let store: any PartitionStore
    private let budget: MemoryBudget
    private let logger: Logger
    private let checkIntervalMs: Int
    private let thread = PeriodicThread()

    init(store: any PartitionStore, budget: MemoryBudget, logger: Logger, checkIntervalMs: Int = 10) {
        self.store = store
        self.budget = budget
        self.logger = logger
        self.checkIntervalMs = checkIntervalMs
    }

    func start() throws {
        // Flush down to a margin below the low watermark so a busy worker does not flush one buffer per check.
        let targetBytes = budget.lowWatermarkBytes * 4 / 5
        try thread.start { [self] in
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
