import Metrics
import Prometheus

/// The master's metrics, through swift-metrics into the master's own Prometheus registry (scraped at `/metrics`).
/// Counters move as events happen; gauges are set from a state snapshot just before each scrape.
final class MasterMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let workersLost: Metrics.Counter
    let applicationsExpired: Metrics.Counter
    let shufflesRegistered: Metrics.Counter
    /// Shuffles that asked for replicas and got partitions without one (fewer than two placeable workers).
    let shufflesUnreplicated: Metrics.Counter
    let revives: Metrics.Counter
    let applications: Metrics.Gauge
    let shuffles: Metrics.Gauge
    let connections: Metrics.Gauge
    private let factory: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let factory = PrometheusMetricsFactory(registry: registry)
        self.factory = factory
        workersLost = Metrics.Counter(label: "sluice_master_workers_lost_total", factory: factory)
        applicationsExpired = Metrics.Counter(label: "sluice_master_applications_expired_total", factory: factory)
        shufflesRegistered = Metrics.Counter(label: "sluice_master_shuffles_registered_total", factory: factory)
        shufflesUnreplicated = Metrics.Counter(
            label: "sluice_master_shuffles_unreplicated_total", factory: factory)
        revives = Metrics.Counter(label: "sluice_master_revives_total", factory: factory)
        applications = Metrics.Gauge(label: "sluice_master_applications", factory: factory)
        shuffles = Metrics.Gauge(label: "sluice_master_shuffles", factory: factory)
        connections = Metrics.Gauge(label: "sluice_master_connections", factory: factory)
    }

    /// Sets `sluice_master_workers{state=...}` (live, draining, lost).
    func recordWorkers(live: Int, draining: Int, lost: Int) {
        for (state, count) in [("live", live), ("draining", draining), ("lost", lost)] {
            Metrics.Gauge(label: "sluice_master_workers", dimensions: [("state", state)], factory: factory).record(
                count)
        }
    }
}
