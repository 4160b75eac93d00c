import Foundation
import SluiceAuth
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
        for option in ["--http1.1", "--http2-prior-knowledge", "--http2"] {
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
        #expect((after["sluice_worker_push_duration_seconds_count"] ?? 0) > 0, "push latency is a histogram")
        for series in [
            "sluice_worker_replication_failures_total", "sluice_worker_backpressure_pauses_total",
            "sluice_worker_open_streams", "sluice_worker_memory_peak_bytes",
        ] {
            #expect(after[series] != nil, "\(series) is exposed")
        }
        #expect((after["sluice_worker_memory_peak_bytes"] ?? 0) > 0, "pushes held memory at some point")
        #expect(
            (after["sluice_worker_memory_used_bytes"] ?? 0) < (after["sluice_worker_memory_peak_bytes"] ?? 0),
            "memory held under load is given back once the shuffle is written and read")
        #expect(
            (after["sluice_worker_fetch_duration_seconds_count"] ?? 0) > 0
                || (after["sluice_worker_fetched_chunks_total"] ?? 0) == 0)
        #expect(after.keys.contains { $0.hasPrefix("sluice_worker_storage_used_bytes{") })
        let fileSeries = after.filter { $0.key.hasPrefix("sluice_worker_storage_files{") }
        #expect(!fileSeries.isEmpty && fileSeries.values.contains { $0 > 0 }, "files per directory: \(fileSeries)")
        #expect(after.keys.contains { $0.hasPrefix("sluice_worker_storage_failures{") })
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
        let shuffles = try #require(
            try Self.json(try curl([], port: masterPort, path: "/api/v1/applications/app-ops/shuffles"))
                as? [[String: Any]])
        #expect(shuffles.count == 1 && shuffles[0]["partitions"] as? Int == 8 && shuffles[0]["epochs"] as? Int == 8)
        #expect(shuffles[0]["workers"] as? [String] == ["worker-0", "worker-1"])
        #expect(try curl([], port: masterPort, path: "/api/v1/applications/nobody/shuffles").status == 404)
        let worker = try #require(
            try Self.json(try curl([], port: workerPort, path: "/api/v1/worker")) as? [String: Any])
        #expect(worker["workerId"] as? String == "worker-0")
        #expect(worker["shufflesHeld"] as? [String] == ["app-ops/0"])
        let directories = try #require(worker["directories"] as? [[String: Any]])
        #expect(directories.count == 1 && directories[0]["healthy"] as? Bool == true)
        #expect((directories[0]["usedBytes"] as? Int ?? 0) > 0)
        #expect((directories[0]["files"] as? Int ?? 0) > 0 && directories[0]["failures"] as? Int == 0)
        try waitUntil("the master lists each worker's tier from its heartbeats") {
            let view = (try? Self.json(try curl([], port: masterPort, path: "/api/v1/workers"))) as? [[String: Any]]
            return view?.count == 2
                && view?.allSatisfy { worker in
                    let tiers = worker["tiers"] as? [[String: Any]]
                    return tiers?.count == 1 && tiers?[0]["kind"] as? String == "nvme"
                        && (tiers?[0]["capacityBytes"] as? Int ?? 0) > 0
                } == true
        }
    }

    /// A shuffle that asks for two copies on a cluster with one worker gets partitions without a replica: the
    /// master counts it (and logs a warning) rather than running on silently.
    @Test func aShuffleWithoutTheReplicasItAskedForIsCounted() throws {
        let cluster = try MiniCluster(workers: 1)
        defer { cluster.shutdown() }
        let masterPort = try #require(cluster.master.httpPort)
        let client = cluster.client(replicate: true)
        defer { client.close() }
        let unreplicated = "sluice_master_shuffles_unreplicated_total"
        #expect(Self.samples(try curl([], port: masterPort, path: "/metrics").text)[unreplicated] == 0)
        _ = try client.registerShuffle(
            ShuffleKey(applicationId: "app-one-copy", shuffleId: 0), numMappers: 1, numPartitions: 4)
        #expect(Self.samples(try curl([], port: masterPort, path: "/metrics").text)[unreplicated] == 1)
        let twoWorkers = try MiniCluster(workers: 2)
        defer { twoWorkers.shutdown() }
        let replicated = twoWorkers.client(replicate: true)
        defer { replicated.close() }
        _ = try replicated.registerShuffle(
            ShuffleKey(applicationId: "app-two-copies", shuffleId: 0), numMappers: 1, numPartitions: 4)
        let port = try #require(twoWorkers.master.httpPort)
        #expect(Self.samples(try curl([], port: port, path: "/metrics").text)[unreplicated] == 0)
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

/// Decommission through the operations API: behind the admin token, the worker gets no new partitions, drains
/// (not ready, pushes refused, reads served), loses no data, and comes back when recommissioned.
@Suite struct DecommissionTests {
    static let winner: @Sendable (UInt32) -> UInt64 = { 70 + UInt64($0) }

    @Test func decommissionedWorkerTakesNoNewDataServesWhatItHoldsAndComesBack() throws {
        let cluster = try MiniCluster(workers: 0)
        defer { cluster.shutdown() }
        for index in 0..<3 { try cluster.addWorker(index: index, overrides: ["httpAdminToken": "s3cret"]) }
        try waitUntil("workers registered") { cluster.workers.allSatisfy(\.isRegistered) }
        let client = cluster.client(codec: .lz4)
        defer { client.close() }
        let data = ShuffleData(mappers: 6, partitions: 12)
        let before = ShuffleKey(applicationId: "app-decommission", shuffleId: 0)
        let handle = try client.registerShuffle(before, numMappers: data.mappers, numPartitions: data.partitions)
        _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)

        // The master's admin API has no token here; the worker's does.
        let workerPort = try #require(cluster.workers[0].httpPort)
        #expect(try curl(["-X", "POST"], port: workerPort, path: "/api/v1/decommission").status == 401)
        #expect(try curl(["-X", "GET"], port: workerPort, path: "/readyz").status == 200, "a refused POST did nothing")
        let masterPort = try #require(cluster.master.httpPort)
        #expect(try curl(["-X", "POST"], port: masterPort, path: "/api/v1/workers/nobody/decommission").status == 404)
        #expect(
            try curl(["-X", "POST"], port: masterPort, path: "/api/v1/workers/worker-0/decommission").status == 200)
        try waitUntil("worker-0 hears it and drains") { cluster.workers[0].isDraining }
        #expect(try curl([], port: workerPort, path: "/readyz").status == 503)

        let after = ShuffleKey(applicationId: "app-decommission", shuffleId: 1)
        let placed = try client.registerShuffle(after, numMappers: 1, numPartitions: 30)
        #expect(
            placed.locations.locations.allSatisfy {
                $0.primary?.workerId != "worker-0" && $0.replica?.workerId != "worker-0"
            })
        #expect(try data.mismatches(reader: client.reader(before), attemptId: Self.winner).isEmpty)

        #expect(
            try curl(["-X", "POST"], port: masterPort, path: "/api/v1/workers/worker-0/recommission").status == 200)
        try waitUntil("worker-0 resumes") { !cluster.workers[0].isDraining }
        #expect(try curl([], port: workerPort, path: "/readyz").status == 200)
        // Through the worker's own API, with the token.
        let local = try curl(
            ["-X", "POST", "-H", "Authorization: Bearer s3cret"], port: workerPort,
            path: "/api/v1/decommission")
        #expect(local.status == 200 && cluster.workers[0].isDraining)
    }
}

/// The `sluice` command-line tool against a running cluster: tables, JSON, decommission and its exit statuses.
@Suite struct CommandLineToolTests {
    /// Runs `sluice ARGS`; returns its exit status and standard output.
    static func sluice(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let directory = try #require(BuiltExecutables.directory).path
        let scratch = try TempDirectory(prefix: "sluice-cli-")
        defer { scratch.remove() }
        let child = try ChildProcess(executable: directory + "/sluice", arguments: arguments, outputIn: scratch.path)
        guard case .exited(let status) = child.waitForExit(timeoutMs: 30_000) else {
            child.kill()
            throw TestKitError("sluice \(arguments) did not exit")
        }
        return (status, (try? String(contentsOfFile: child.outputPath, encoding: .utf8)) ?? "")
    }

    @Test(.enabled(if: BuiltExecutables.directory != nil, "the executables are not built"))
    func statusWorkersDecommissionAndExitStatuses() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let master = "127.0.0.1:\(try #require(cluster.master.httpPort))"
        let status = try Self.sluice(["status", "--master", master])
        #expect(status.status == 0 && status.output.hasPrefix("ready"))
        let workers = try Self.sluice(["workers", "--master", master])
        #expect(workers.status == 0)
        #expect(workers.output.split(separator: "\n").count == 3, "a header and two workers:\n\(workers.output)")
        #expect(workers.output.contains("worker-0") && workers.output.contains("live"))

        let client = cluster.client()
        defer { client.close() }
        _ = try client.registerShuffle(
            ShuffleKey(applicationId: "app-cli", shuffleId: 3), numMappers: 2, numPartitions: 5)
        let shuffles = try Self.sluice(["shuffles", "app-cli", "--master", master])
        #expect(shuffles.status == 0 && shuffles.output.contains("3") && shuffles.output.contains("PARTITIONS"))
        #expect(try Self.sluice(["shuffles", "nobody", "--master", master]).status == 4)
        #expect(try Self.sluice(["decommission", "worker-0", "--master", master]).status == 0)
        try waitUntil("worker-0 hears of its decommission") { cluster.workers[0].isDraining }
        let workerPort = try #require(cluster.workers[0].httpPort)
        #expect(try curl([], port: workerPort, path: "/readyz").status == 503)
        let placed = try client.registerShuffle(
            ShuffleKey(applicationId: "app-cli", shuffleId: 4), numMappers: 1, numPartitions: 20)
        #expect(
            placed.locations.locations.allSatisfy {
                $0.primary?.workerId != "worker-0" && $0.replica?.workerId != "worker-0"
            })
        #expect(try Self.sluice(["decommission", "nobody", "--master", master]).status == 4)
        let json = try Self.sluice(["workers", "--json", "--master", master])
        let listed = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]] ?? []
        #expect(listed.first { $0["workerId"] as? String == "worker-0" }?["state"] as? String == "decommissioned")
        #expect(try Self.sluice(["decommission", "worker-1", "--master", master]).status == 0)
        #expect(try Self.sluice(["status", "--master", master]).status == 3, "no worker left to place on")
        #expect(try Self.sluice(["status", "--master", "127.0.0.1:1"]).status == 1, "unreachable")
    }

    @Test(.enabled(if: BuiltExecutables.directory != nil, "the executables are not built"))
    func withAClusterSecretTheToolSignsItsRequestsAndPrintsTheClientSecret() throws {
        let secretText = "cli-tests-cluster-secret-0123456789abcdef"
        let cluster = try MiniCluster(workers: 2, clusterSecret: secretText)
        defer { cluster.shutdown() }
        let secretFile = cluster.scratch.file("cluster-secret")
        try (secretText + "\n").write(toFile: secretFile, atomically: true, encoding: .utf8)
        let master = "127.0.0.1:\(try #require(cluster.master.httpPort))"
        #expect(try Self.sluice(["workers", "--master", master]).status == 1, "unsigned: 401")
        let workers = try Self.sluice(["workers", "--master", master, "--secret-file", secretFile])
        #expect(workers.status == 0 && workers.output.contains("worker-1"), "\(workers.output)")
        #expect(
            try Self.sluice(["decommission", "worker-1", "--master", master, "--secret-file", secretFile]).status == 0)
        #expect(cluster.master.snapshot.decommissioned.contains("worker-1"))

        let printed = try Self.sluice(["auth", "client-secret", "--secret-file", secretFile])
        let expected = try ClusterSecret(text: secretText).clientCredential.hex
        #expect(printed.status == 0 && printed.output == expected + "\n")
        let fresh = try Self.sluice(["auth", "new-secret"])
        #expect(fresh.status == 0 && fresh.output.count == 65 && (try? ClusterSecret(text: fresh.output)) != nil)
        // The printed client secret registers an application and nothing else.
        let clientSecret = try Credential.client(hex: printed.output)
        let token = try SluiceClient.registerApplication(
            "app-cli-secured", masterEndpoint: cluster.masterEndpoint, clientCredential: clientSecret)
        #expect(token != nil)
        let tooShort = cluster.scratch.file("short-secret")
        try "short".write(toFile: tooShort, atomically: true, encoding: .utf8)
        #expect(try Self.sluice(["workers", "--master", master, "--secret-file", tooShort]).status == 64)
    }
}

/// Hostile input on a worker's operations port does not crash it or stall its operations API or its data port.
@Suite struct OperationsPortAbuseTests {
    @Test func idleAndMalformedConnectionsLeaveTheWorkerServing() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let port = try #require(cluster.workers[0].httpPort)
        // 1,000 idle connections, none sending a byte.
        let idle = try (0..<1_000).map { _ in try RawConnection(port: port) }
        // Malformed input of every kind, each on its own connection.
        let truncatedPreface = try RawConnection(port: port)
        truncatedPreface.send(Array("PRI * HTTP/2.0\r\n\r\nSM".utf8))
        truncatedPreface.shutdownWrite()
        let garbage = try RawConnection(port: port)
        garbage.send((0..<4_096).map { UInt8(truncatingIfNeeded: $0 &* 131) } + Array("\r\n\r\n".utf8))
        let hugeHeader = try RawConnection(port: port)
        hugeHeader.send(
            Array(("GET /healthz HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 200_000) + "\r\n\r\n").utf8))
        let badFrame = try RawConnection(port: port)
        badFrame.send(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 4, 0xFF, 0, 0, 0, 0, 1, 1, 2, 3, 4])
        let slow = try RawConnection(port: port)
        slow.send(Array("GET /heal".utf8))

        // Everyone else is served: the operations API over both protocols, and the data port.
        #expect(try curl(["--http1.1"], port: port, path: "/healthz").status == 200)
        #expect(try curl(["--http2-prior-knowledge"], port: port, path: "/metrics").status == 200)
        let client = cluster.client(codec: .lz4)
        defer { client.close() }
        let data = ShuffleData(mappers: 3, partitions: 6)
        let key = ShuffleKey(applicationId: "app-abuse", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: data.mappers, numPartitions: data.partitions)
        _ = try data.writeAll(client: client, handle: handle, attemptId: { 5 + UInt64($0) })
        #expect(try data.mismatches(reader: client.reader(key), attemptId: { 5 + UInt64($0) }).isEmpty)
        // The malformed ones were answered or closed; the idle ones are still open and cost the server nothing.
        #expect(garbage.read(timeoutMs: 5_000).closed)
        #expect(String(decoding: hugeHeader.read(timeoutMs: 5_000).bytes, as: UTF8.self).contains("431"))
        #expect(badFrame.read(timeoutMs: 5_000).closed)
        #expect(truncatedPreface.read(timeoutMs: 5_000).closed)
        // The idle connections are held (within the 1,024-connection limit), not dropped, and cost the worker its
        // registration nothing.
        #expect(!idle[0].read(timeoutMs: 50).closed && !idle[999].read(timeoutMs: 50).closed)
        #expect(cluster.workers[0].isRegistered)
    }
}
