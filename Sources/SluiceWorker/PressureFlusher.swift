import Logging
import SluiceCore
import SluiceNet
import SluiceStorage
import Synchronization

/// Watches the worker's memory budget on its own thread and, once use passes the low watermark, writes out flush
/// buffers (largest first) until use is back below it. Buffers are the one holder of budget bytes that does not
/// drain by itself when push connections are paused, so this is what keeps backpressure from becoming a stall.
final class PressureFlusher: Sendable {
    private let store: DirectoryPartitionStore
    private let budget: MemoryBudget
    private let logger: Logger
    private let checkIntervalMs: Int
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    private let wake = ConditionVariable()
    private let finished = ConditionVariable()

    init(store: DirectoryPartitionStore, budget: MemoryBudget, logger: Logger, checkIntervalMs: Int = 10) {
        self.store = store
        self.budget = budget
        self.logger = logger
        self.checkIntervalMs = checkIntervalMs
    }

    func start() throws {
        running.store(true, ordering: .sequentiallyConsistent)
        do {
            try NetThread.spawn { [self] in
                loop()
                running.store(false, ordering: .sequentiallyConsistent)
                finished.broadcast()
            }
        } catch {
            running.store(false, ordering: .sequentiallyConsistent)
            throw error
        }
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wake.broadcast()
        finished.wait(until: { !self.running.load(ordering: .sequentiallyConsistent) }, timeoutMs: 10_000)
    }

    private func loop() {
        // Flush down to a margin below the low watermark so a busy worker does not flush one buffer per check.
        let targetBytes = budget.lowWatermarkBytes * 4 / 5
        while !stopping.load(ordering: .sequentiallyConsistent) {
            if budget.usedBytes > budget.lowWatermarkBytes {
                let written = store.relieveMemoryPressure(downToBytes: targetBytes)
                if written > 0 {
                    logger.debug("flushed buffers under memory pressure", metadata: ["bytes": "\(written)",
                                                                                     "budget.used": "\(budget.usedBytes)"])
                }
            }
            wake.wait(until: { self.stopping.load(ordering: .sequentiallyConsistent) }, timeoutMs: checkIntervalMs)
        }
    }
}
