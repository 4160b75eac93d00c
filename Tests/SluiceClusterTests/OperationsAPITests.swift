import Foundation
import SluiceClient
import SluiceCore
import SluiceTestKit
import Testing

/// The operations API of a running master and workers: health, readiness, Prometheus metrics that move with
/// the data, version, and the JSON views, over HTTP/1.1 and HTTP/2.
@Suite struct OperationsAPITests {
    /// `name{labels} value` lines of a Prometheus text exposition, by series (name with its labels).
    static func samples(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            result[String(line[..<space])] = value
        }
        return result
    }

    static func json(_ result: CurlResult) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(result.body))
    }

    @Test func healthReadinessMetricsAndJSONOfAWorkingCluster() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let masterPort = try #require(cluster.master.httpPort)
        let workerPort = try #require(cluster.workers[0].httpPort)
        for option in ["--http1.1", "--http2-prior-knowledge"] {
            #expect(try curl([option], port: masterPort, path: "/healthz").status == 200)
            #expect(try curl([option], port: workerPort, path: "/healthz").status == 200)
            #expect(try curl([option], port: masterPort, path: "/readyz").status == 200)
            #expect(try curl([option], port: workerPort, path: "/readyz").status == 200)
        }
        let version = try #require(try Self.json(try curl([], port: workerPort, path: "/version")) as? [String: Any])
        #expect(version["name"] as? String == "sluice-worker" && version["version"] as? String == SluiceVersion.current)

        let before = Self.samples(try curl([], port: workerPort, path: "/metrics").text)
        #expect(before["sluice_worker_memory_capacity_bytes"] == Double(512 << 20))
        let client = cluster.client(codec: .lz4)
        defer { client.close() }
        let data = ShuffleData(mappers: 4, partitions: 8)
        let key = ShuffleKey(applicationId: "app-ops", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: data.mappers, numPartitions: data.partitions)
        _ = try data.writeAll(client: client, handle: handle, attemptId: { 1 + UInt64($0) })
        #expect(try data.mismatches(reader: client.reader(key), attemptId: { 1 + UInt64($0) }).isEmpty)

        let after = Self.samples(try curl([], port: workerPort, path: "/metrics").text)
        #expect(
            (after["sluice_worker_pushed_batches_total"] ?? 0) > (before["sluice_worker_pushed_batches_total"] ?? 0))
        #expect(
            (after["sluice_worker_fetched_chunks_total"] ?? 0) > 0
                || (after["sluice_worker_replicated_batches_total"] ?? 0) > 0)
        #expect(after["sluice_worker_shuffles_held"] == 1)
        #expect(after.keys.contains { $0.hasPrefix("sluice_worker_storage_used_bytes{") })
        let masterMetrics = Self.samples(try curl([], port: masterPort, path: "/metrics").text)
        #expect(masterMetrics["sluice_master_workers{state=\"live\"}"] == 2)
        #expect(masterMetrics["sluice_master_shuffles"] == 1)

        let workers = try #require(
            try Self.json(try curl([], port: masterPort, path: "/api/v1/workers")) as? [[String: Any]])
        #expect(workers.map { $0["workerId"] as? String } == ["worker-0", "worker-1"])
        #expect(workers.allSatisfy { $0["state"] as? String == "live" })
        let apps = try #require(
            try Self.json(try curl([], port: masterPort, path: "/api/v1/applications")) as? [[String: Any]])
        #expect(apps.first?["applicationId"] as? String == "app-ops")
        let worker = try #require(
            try Self.json(try curl([], port: workerPort, path: "/api/v1/worker")) as? [String: Any])
        #expect(worker["workerId"] as? String == "worker-0")
        #expect(worker["shufflesHeld"] as? [String] == ["app-ops/0"])
        let directories = try #require(worker["directories"] as? [[String: Any]])
        #expect(directories.count == 1 && directories[0]["healthy"] as? Bool == true)
        #expect((directories[0]["usedBytes"] as? Int ?? 0) > 0)
    }

    @Test func aDrainingWorkerIsNotReadyAndTheMasterSaysSo() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let workerPort = try #require(cluster.workers[1].httpPort)
        cluster.workers[1].beginDraining()
        let readiness = try curl([], port: workerPort, path: "/readyz")
        #expect(readiness.status == 503 && readiness.text.contains("draining"))
        #expect(try curl([], port: workerPort, path: "/healthz").status == 200, "draining is not unhealthy")
        let masterPort = try #require(cluster.master.httpPort)
        try waitUntil("the master lists worker-1 as draining") {
            let workers = (try? Self.json(try curl([], port: masterPort, path: "/api/v1/workers"))) as? [[String: Any]]
            return workers?.first { $0["workerId"] as? String == "worker-1" }?["state"] as? String == "draining"
        }
    }

    @Test func aMasterWithoutWorkersIsHealthyButNotReady() throws {
        let cluster = try MiniCluster(workers: 0)
        defer { cluster.shutdown() }
        let port = try #require(cluster.master.httpPort)
        #expect(try curl([], port: port, path: "/healthz").status == 200)
        let readiness = try curl([], port: port, path: "/readyz")
        #expect(readiness.status == 503 && readiness.text.contains("no live worker"))
        #expect(try curl([], port: port, path: "/nowhere").status == 404)
    }
}
