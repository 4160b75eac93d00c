import SluiceAuth
import SluiceCore
import SluiceHTTP
import SluiceOperations
import SluiceStorage

/// The worker's side of the operations API: readiness, the gauges set before each scrape, and `/api/v1/worker`.
extension WorkerServer {
    /// Ready when registered with the master, not draining, and at least one storage directory is healthy.
    var readiness: Readiness {
        var reasons: [String] = []
        if !isRegistered { reasons.append("not registered with the master") }
        if isDraining { reasons.append("draining") }
        if !store.directories().contains(where: \.healthy) { reasons.append("no healthy storage directory") }
        return Readiness(isReady: reasons.isEmpty, reasons: reasons)
    }

    /// Drains (or resumes) on an operator's word through this worker's API, and tells the master at once.
    func setLocallyDecommissioned(_ value: Bool) {
        let directives = state.withLock { $0.setLocallyDecommissioned(value) }
        logger.info(value ? "worker decommissioned" : "worker recommissioned", metadata: ["by": "operations API"])
        if directives.contains(.heartbeatNow) { beatNow() }
    }

    /// Sets the gauges from the worker's state.
    func refreshMetrics() {
        metrics.memoryUsedBytes.record(memoryBudget.usedBytes)
        metrics.memoryCapacityBytes.record(memoryBudget.capacityBytes)
        metrics.memoryPeakBytes.record(memoryBudget.peakBytes)
        metrics.recordPauses(memoryBudget.pauseCount)
        metrics.openStreams.record(openStreams.value.load(ordering: .relaxed))
        metrics.connections.record(connectionCount)
        metrics.shufflesHeld.record(store.heldShuffles().count)
        metrics.recordDirectories(store.directories())
    }

    /// What `GET /api/v1/worker` answers.
    struct Report: Encodable {
        var workerId: String?
        var version: String
        var registered: Bool
        var draining: Bool
        var memoryUsedBytes: Int
        var memoryCapacityBytes: Int
        var connections: Int
        var shufflesHeld: [String]
        var directories: [StorageDirectoryStatus]
    }

    var report: Report {
        Report(
            workerId: address?.workerId, version: SluiceVersion.current, registered: isRegistered,
            draining: isDraining, memoryUsedBytes: memoryBudget.usedBytes,
            memoryCapacityBytes: memoryBudget.capacityBytes, connections: connectionCount,
            shufflesHeld: store.heldShuffles().map { "\($0.applicationId)/\($0.shuffleId)" },
            directories: store.directories())
    }

    /// The worker's operations server on `config.http`.
    func makeOperationsServer() -> OperationsServer {
        var router = HTTPRouter()
        let verifier = config.auth.secret.map { RequestVerifier(adminKey: $0.adminKey) }
        router.add(
            "GET", "/api/v1/worker",
            OperationsServer.admin(token: config.http.adminToken, verifier: verifier, readOnly: true) { [self] _ in
                JSONBody.response(report)
            })
        for (action, value) in [("decommission", true), ("recommission", false)] {
            router.add(
                "POST", "/api/v1/\(action)",
                OperationsServer.admin(token: config.http.adminToken, verifier: verifier) { [self] _ in
                    setLocallyDecommissioned(value)
                    return JSONBody.response(report)
                })
        }
        return OperationsServer(
            settings: config.http, host: config.host, serverName: "sluice-worker", registry: metrics.registry,
            refreshMetrics: { [self] in refreshMetrics() }, readiness: { [self] in readiness }, routes: router,
            logger: logger, system: system)
    }
}
