import Logging
import Metrics
import SluiceStorage
import SluiceSystem
import Synchronization

/// Runs the store's demotion step on its own thread every `checkIntervalMs`: idle files move out of directories
/// above their tier's high watermark at most `rateBytesPerSec` (a token bucket paces every copied piece), and each
/// move is counted per directory on /metrics. Stopping abandons the move in progress (the file stays where it was).
final class DemotionLoop: Sendable {
    private let store: any TierDemoting
    private let pacer: TokenBucketPacer
    private let metrics: WorkerMetrics
    private let logger: Logger
    private let checkIntervalMs: Int
    private let thread = PeriodicThread()

    init(
        store: any TierDemoting, rateBytesPerSec: Int, checkIntervalMs: Int, metrics: WorkerMetrics,
        logger: Logger
    ) {
        self.store = store
        pacer = TokenBucketPacer(rateBytesPerSec: rateBytesPerSec)
        self.metrics = metrics
        self.logger = logger
        self.checkIntervalMs = checkIntervalMs
    }

    func start() throws {
        try thread.start { [self] in
            let report = store.demote(maxBytes: .max, pacer: pacer)
            metrics.recordDemotions(report)
            if report.failedMoves > 0 {
                logger.warning("demotion round had failed moves", metadata: ["moves.failed": "\(report.failedMoves)"])
            }
            return checkIntervalMs
        }
    }

    func stop() {
        pacer.stop()
        thread.stop()
    }
}

/// A token bucket of bytes: `admit` waits until the bucket is not in debt, then takes the bytes (a piece larger
/// than the bucket puts it in debt), so copies average at most `rateBytesPerSec` with bursts of a quarter second.
final class TokenBucketPacer: DemotionPacer {
    private let rateBytesPerSec: Int
    private let burstBytes: Double
    private let bucket: Mutex<(tokens: Double, lastNs: UInt64)>
    private let stopping = Atomic<Bool>(false)
    private let wake = ConditionVariable()

    init(rateBytesPerSec: Int) {
        self.rateBytesPerSec = max(rateBytesPerSec, 1)
        burstBytes = Double(max(rateBytesPerSec, 1)) / 4
        bucket = Mutex((burstBytes, Monotonic.nowNs()))
    }

    func admit(bytes: Int) -> Bool {
        while !stopping.load(ordering: .acquiring) {
            let waitMs = bucket.withLock { b -> Int in
                let nowNs = Monotonic.nowNs()
                b.tokens = min(burstBytes, b.tokens + Double(nowNs - b.lastNs) * Double(rateBytesPerSec) / 1e9)
                b.lastNs = nowNs
                guard b.tokens <= 0 else {
                    b.tokens -= Double(bytes)
                    return 0
                }
                return max(1, Int(-b.tokens * 1000 / Double(rateBytesPerSec)) + 1)
            }
            if waitMs == 0 { return true }
            wake.wait(until: { self.stopping.load(ordering: .acquiring) }, timeoutMs: waitMs)
        }
        return false
    }

    /// Makes every `admit` (waiting or later) return false.
    func stop() {
        stopping.store(true, ordering: .releasing)
        wake.broadcast()
    }
}

extension WorkerMetrics {
    /// Counts each moved file and its bytes against the directory it left (labelled by directory, tier, kind and
    /// the tier it went to).
    func recordDemotions(_ report: DemotionReport) {
        for moved in report.moved {
            let labels = [
                ("directory", moved.fromDirectory), ("tier", "\(moved.fromTier)"), ("kind", moved.fromKind),
                ("to_tier", "\(moved.toTier)"),
            ]
            Metrics.Counter(label: "sluice_worker_demoted_files_total", dimensions: labels, factory: factory)
                .increment()
            Metrics.Counter(label: "sluice_worker_demoted_bytes_total", dimensions: labels, factory: factory)
                .increment(by: moved.sourceBytes)
        }
        if report.failedMoves > 0 {
            Metrics.Counter(label: "sluice_worker_demotion_failures_total", factory: factory)
                .increment(by: report.failedMoves)
        }
    }
}
