import Metrics
import Prometheus
import SluiceStorage
import Synchronization

/// The worker's metrics, through swift-metrics into the worker's own Prometheus registry (scraped at `/metrics`).
/// Counters move as work happens; gauges are set from the worker's state just before each scrape (`refresh`).
final class WorkerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let pushedBatches: Metrics.Counter
    let pushedBytes: Metrics.Counter
    let replicatedBatches: Metrics.Counter
    let refusedBatches: Metrics.Counter
    let corruptBatches: Metrics.Counter
    let fetchedChunks: Metrics.Counter
    let fetchedBytes: Metrics.Counter
    let recompressedChunks: Metrics.Counter
    /// Streams refused because the partition file's writer failed (the reader fails over to another copy).
    let refusedFailedCopies: Metrics.Counter
    let shufflesDeleted: Metrics.Counter
    /// Forwards to a replica that failed (unreachable, timed out, refused): the client revives elsewhere.
    let replicationFailures: Metrics.Counter
    /// Backpressure episodes: memory use crossed the high watermark and push connections stopped being read.
    let backpressurePauses: Metrics.Counter
    let memoryPeakBytes: Metrics.Gauge
    let openStreams: Metrics.Gauge
    /// The budget's pause count at the last scrape (the counter moves by the difference).
    private let pausesSeen = Atomic<Int>(0)
    let memoryUsedBytes: Metrics.Gauge
    let memoryCapacityBytes: Metrics.Gauge
    let connections: Metrics.Gauge
    let shufflesHeld: Metrics.Gauge
    /// From a push's arrival to its answer (both copies stored, or refused): the latency a map task waits.
    let pushDuration: Metrics.Timer
    /// Time to produce one fetched chunk's answer (file range handed to sendfile, or bytes recompressed).
    let fetchDuration: Metrics.Timer
    let factory: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let factory = PrometheusMetricsFactory(registry: registry)
        self.factory = factory
        func counter(_ name: String) -> Metrics.Counter {
            Metrics.Counter(label: "sluice_worker_\(name)", factory: factory)
        }
        func gauge(_ name: String) -> Metrics.Gauge { Metrics.Gauge(label: "sluice_worker_\(name)", factory: factory) }
        pushedBatches = counter("pushed_batches_total")
        pushedBytes = counter("pushed_bytes_total")
        replicatedBatches = counter("replicated_batches_total")
        refusedBatches = counter("refused_batches_total")
        corruptBatches = counter("corrupt_batches_total")
        fetchedChunks = counter("fetched_chunks_total")
        fetchedBytes = counter("fetched_bytes_total")
        recompressedChunks = counter("recompressed_chunks_total")
        refusedFailedCopies = counter("refused_failed_copies_total")
        shufflesDeleted = counter("shuffles_deleted_total")
        replicationFailures = counter("replication_failures_total")
        backpressurePauses = counter("backpressure_pauses_total")
        memoryPeakBytes = gauge("memory_peak_bytes")
        openStreams = gauge("open_streams")
        memoryUsedBytes = gauge("memory_used_bytes")
        memoryCapacityBytes = gauge("memory_capacity_bytes")
        connections = gauge("connections")
        shufflesHeld = gauge("shuffles_held")
        pushDuration = Metrics.Timer(label: "sluice_worker_push_duration_seconds", factory: factory)
        fetchDuration = Metrics.Timer(label: "sluice_worker_fetch_duration_seconds", factory: factory)
    }

    /// Moves the backpressure counter up to the budget's pause count.
    func recordPauses(_ count: Int) {
        let previous = pausesSeen.exchange(count, ordering: .relaxed)
        if count > previous { backpressurePauses.increment(by: count - previous) }
    }

    /// Sets the per-directory gauges (labelled by directory, tier and kind).
    func recordDirectories(_ directories: [StorageDirectoryStatus]) {
        for directory in directories {
            let labels = [("directory", directory.path), ("tier", "\(directory.tier)"), ("kind", directory.kind)]
            Metrics.Gauge(label: "sluice_worker_storage_used_bytes", dimensions: labels, factory: factory)
                .record(directory.usedBytes)
            Metrics.Gauge(label: "sluice_worker_storage_capacity_bytes", dimensions: labels, factory: factory)
                .record(directory.capacityBytes)
            Metrics.Gauge(label: "sluice_worker_storage_healthy", dimensions: labels, factory: factory)
                .record(directory.healthy ? 1 : 0)
            Metrics.Gauge(label: "sluice_worker_storage_files", dimensions: labels, factory: factory)
                .record(directory.files)
            Metrics.Gauge(label: "sluice_worker_storage_failures", dimensions: labels, factory: factory)
                .record(directory.failures)
        }
    }
}
