import SluiceAuth
import SluiceConfig
import SluiceCore
import SluiceHTTP
import SluiceOperations
import SluiceSystem

/// The master's side of the operations API: readiness, the gauges set before each scrape, and the JSON routes
/// `/api/v1/workers` and `/api/v1/applications`.
extension MasterServer {
    /// Ready when at least one live worker takes new partitions (so a registration can be placed).
    var readiness: Readiness {
        let state = snapshot
        let placeable = state.workers.values.contains {
            $0.alive && !$0.draining && !state.decommissioned.contains($0.address.workerId)
        }
        return placeable ? Readiness(isReady: true) : Readiness(isReady: false, reasons: ["no live worker to place on"])
    }

    func refreshMetrics() {
        let state = snapshot
        let workers = Array(state.workers.values)
        let draining = { (worker: MasterState.WorkerRecord) in
            worker.draining || state.decommissioned.contains(worker.address.workerId)
        }
        metrics.recordWorkers(
            live: workers.filter { $0.alive && !draining($0) }.count,
            draining: workers.filter { $0.alive && draining($0) }.count, lost: workers.filter { !$0.alive }.count)
        metrics.applications.record(state.applications.count)
        metrics.shuffles.record(state.shuffleKeys.count)
        metrics.connections.record(connectionCount)
    }

    /// One worker as `GET /api/v1/workers` lists it.
    struct WorkerReport: Encodable {
        var workerId: String
        var host: String
        var port: Int
        /// Its operations API port (0: none reported).
        var httpPort: Int
        var state: String
        var capacityBytes: UInt64
        var freeBytes: UInt64
        var msSinceHeartbeat: UInt64
        /// Room per storage tier, fastest first, from the worker's last heartbeat.
        var tiers: [TierReport]
    }

    /// One storage tier of a worker in `GET /api/v1/workers`.
    struct TierReport: Encodable {
        var kind: String
        var freeBytes: UInt64
        var capacityBytes: UInt64
    }

    var workerReports: [WorkerReport] {
        let now = Monotonic.nowMs()
        let state = snapshot
        return state.workers.values.sorted { $0.address.workerId < $1.address.workerId }.map { worker in
            WorkerReport(
                workerId: worker.address.workerId, host: worker.address.host, port: Int(worker.address.port),
                httpPort: Int(worker.httpPort),
                state: !worker.alive
                    ? "lost"
                    : state.decommissioned.contains(worker.address.workerId)
                        ? "decommissioned" : worker.draining ? "draining" : "live",
                capacityBytes: worker.capacityBytes, freeBytes: worker.freeBytes,
                msSinceHeartbeat: now >= worker.lastHeartbeatMs ? now - worker.lastHeartbeatMs : 0,
                tiers: worker.tiers.map {
                    TierReport(kind: $0.kind, freeBytes: $0.freeBytes, capacityBytes: $0.capacityBytes)
                })
        }
    }

    /// One application as `GET /api/v1/applications` lists it, with its shuffles.
    struct ApplicationReport: Encodable {
        var applicationId: String
        var shuffles: [UInt32]
    }

    var applicationReports: [ApplicationReport] {
        let state = snapshot
        let keys = state.shuffleKeys
        return state.applications.keys.sorted().map { id in
            ApplicationReport(applicationId: id, shuffles: keys.filter { $0.applicationId == id }.map(\.shuffleId))
        }
    }

    /// One shuffle as `GET /api/v1/applications/{id}/shuffles` lists it.
    struct ShuffleReport: Encodable {
        var shuffleId: UInt32
        var mappers: UInt32
        var partitions: UInt32
        var replicate: Bool
        /// Partition epochs placed (one per partition, plus one per revive or split).
        var epochs: Int
        /// Workers holding a copy of some epoch.
        var workers: [String]
    }

    /// The shuffles of `applicationId`, or nil when the master does not know the application.
    func shuffleReports(_ applicationId: String) -> [ShuffleReport]? {
        let state = snapshot
        guard state.applications[applicationId] != nil else { return nil }
        return state.shuffles.filter { $0.key.applicationId == applicationId }.sorted { $0.key < $1.key }.map {
            key, record in
            let epochs = record.partitions.values.flatMap { $0 }
            let workers = Set(epochs.flatMap { [$0.primaryWorkerId, $0.replicaWorkerId].compactMap { $0 } })
            return ShuffleReport(
                shuffleId: key.shuffleId, mappers: record.numMappers, partitions: record.numPartitions,
                replicate: record.replicate, epochs: epochs.count, workers: workers.sorted())
        }
    }

    func makeOperationsServer(_ http: HTTPSettings) -> OperationsServer {
        var router = HTTPRouter()
        let verifier = options.auth.secret.map { RequestVerifier(adminKey: $0.adminKey) }
        let listing = { (handler: @escaping HTTPHandler) in
            OperationsServer.admin(token: http.adminToken, verifier: verifier, readOnly: true, handler)
        }
        router.add("GET", "/api/v1/workers", listing { [self] _ in JSONBody.response(workerReports) })
        router.add("GET", "/api/v1/applications", listing { [self] _ in JSONBody.response(applicationReports) })
        router.add(
            "GET", "/api/v1/applications/{id}/shuffles",
            listing { [self] request in
                let id = request.pathParameters["id"] ?? ""
                guard let reports = shuffleReports(id) else { return .text(404, "unknown application \(id)\n") }
                return JSONBody.response(reports)
            })
        for (action, value) in [("decommission", true), ("recommission", false)] {
            router.add(
                "POST", "/api/v1/workers/{id}/\(action)",
                OperationsServer.admin(token: http.adminToken, verifier: verifier) { [self] request in
                    let id = request.pathParameters["id"] ?? ""
                    guard state.withLock({ $0.setDecommissioned(id, value) }) else {
                        return .text(404, "unknown worker \(id)\n")
                    }
                    logger.info("worker \(action)ed", metadata: ["worker.id": "\(id)"])
                    return JSONBody.response(workerReports.filter { $0.workerId == id })
                })
        }
        return OperationsServer(
            settings: http, host: options.host, serverName: "sluice-master", registry: metrics.registry,
            refreshMetrics: { [self] in refreshMetrics() }, readiness: { [self] in readiness }, routes: router,
            logger: logger)
    }
}
