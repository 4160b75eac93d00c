import SluiceClient
import SluiceCore
import SluiceTestKit
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Seeded worker-loss runs against real processes: three workers, replication on, one worker SIGKILLed at a
/// seeded point of a multi-mapper push (or of the read that follows). Every push must complete and every
/// (map, partition) pair must read back with its length and CRC. A failing seed is the test's argument;
/// replay it with `SLUICE_KILL_SEED=N swift test --filter WorkerLossTests`.
@Suite(.serialized) struct WorkerLossTests {
    static func clientConfig(_ masterEndpoint: String) -> ClientConfig {
        // Small batches and merged pushes: many pushes in flight, so a kill lands between enqueue and send.
        ClientConfig(
            masterEndpoint: masterEndpoint, codec: .lz4, pushBufferBytes: 4 << 10,
            mergedPushBytes: 64 << 10, maxInFlightPushesTotal: 2, requestTimeoutMs: 10_000, replicate: true)
    }

    /// Odd seeds run workers with two tiers whose first one is small, so the kill also lands while full files
    /// answer hard splits and partitions move to files in the second tier.
    /// Seeds 2 and 3 modulo 4 run the cluster with a cluster secret: every connection (client, replication,
    /// worker to master, the reconnections after the kill) goes through the authenticated handshake.
    static func cluster(_ seed: UInt64) throws -> ProcessCluster {
        let secret = seed % 4 >= 2 ? "loss-tests-cluster-secret-0123456789abcdef" : nil
        guard seed % 2 == 1 else { return try ProcessCluster(workers: 3, clusterSecret: secret) }
        return try ProcessCluster(
            workers: 3,
            workerArguments: { _, directory in
                [
                    "--tiers",
                    "kind=nvme dirs=\(directory)/nvme capacity=64k high=0.5 low=0.25; kind=ebs dirs=\(directory)/ebs",
                ]
            }, clusterSecret: secret)
    }

    /// A client of `applicationId` on `cluster`, proving the application's token when the cluster has a secret.
    static func client(_ cluster: ProcessCluster, _ applicationId: String) throws -> SluiceClient {
        var config = clientConfig(cluster.masterEndpoint)
        config.credential = try cluster.applicationCredential(applicationId)
        return SluiceClient(config: config, identity: applicationId)
    }

    /// Waits until the master places partitions on restarted worker `index` again (its registration landed; readers
    /// then reach it).
    static func waitUntilPlacedAgain(_ cluster: ProcessCluster, worker index: Int) throws {
        let restartedId = cluster.workerIds[index]
        // A fresh shuffle per attempt: registering one shuffle again returns its first placement, which may predate
        // the worker's return.
        var attempt: UInt32 = 0
        try waitUntil("\(restartedId) registered again", timeoutMs: 20_000, pollIntervalMs: 50) {
            attempt += 1
            let probe = MasterClient(endpoint: cluster.masterEndpoint, identity: "probe", requestTimeoutMs: 2_000)
            defer { probe.close() }
            let probeKey = ShuffleKey(applicationId: "restart-probe-\(restartedId)", shuffleId: attempt)
            let placed = try? probe.registerShuffle(probeKey, numMappers: 1, numPartitions: 8, replicate: false)
            try? probe.unregisterShuffle(probeKey)
            return placed?.locations.locations.contains { $0.primary?.workerId == restartedId } ?? false
        }
    }

    /// SIGKILLs worker `index`, starts it again with the same id and directories, and waits until the master places
    /// partitions on it and `key`'s locations name its new port (a kill and restart quicker than the master's
    /// liveness check leaves the old address in place until its registration lands).
    static func killAndRestart(_ cluster: ProcessCluster, worker index: Int, key: ShuffleKey, client: SluiceClient)
        throws
    {
        let workerId = cluster.workerIds[index]
        let ports = { () -> Set<UInt16> in
            let locations = (try? client.master.allLocations(key)) ?? []
            return Set(locations.compactMap(\.primary).filter { $0.workerId == workerId }.map(\.port))
        }
        let killedPorts = ports()
        cluster.kill(worker: index)
        try cluster.restartWorker(index: index)
        try waitUntilPlacedAgain(cluster, worker: index)
        try waitUntil("the shuffle's locations name \(workerId)'s new port", timeoutMs: 20_000, pollIntervalMs: 20) {
            let now = ports()
            return !now.isEmpty && now.isDisjoint(with: killedPorts)
        }
    }

    static func workload(_ seed: UInt64) -> SeededShuffle {
        SeededShuffle(seed: seed, mappers: 6, partitions: 8, recordsPerMap: 800)
    }

    @Test(
        .enabled(if: BuiltExecutables.directory != nil, "sluice-master/sluice-worker are not built"),
        arguments: KillSeeds.all)
    func workerKilledDuringPushLosesNothing(seed: UInt64) throws {
        let cluster = try Self.cluster(seed)
        defer { cluster.shutdown() }
        var generator = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15)
        let workload = Self.workload(seed)
        let victim = Int.random(in: 0..<3, using: &generator)
        let killAt = Int.random(in: workload.totalRecords / 20...workload.totalRecords * 9 / 10, using: &generator)
        let key = ShuffleKey(applicationId: "loss-push-\(seed)", shuffleId: 0)
        let client = try Self.client(cluster, key.applicationId)
        defer { client.close() }
        let handle = try client.registerShuffle(key, numMappers: workload.mappers, numPartitions: workload.partitions)
        let killed = Mutex(false)
        try workload.writeAll(client: client, handle: handle) { written in
            guard written == killAt else { return }
            cluster.kill(worker: victim)
            killed.withLock { $0 = true }
        }
        let wasKilled = killed.withLock { $0 }
        #expect(wasKilled, "seed \(seed): the kill point was never reached")
        var readerConfig = Self.clientConfig(cluster.masterEndpoint)
        readerConfig.credential = client.config.credential
        let reader = SluiceClient(config: readerConfig, identity: key.applicationId)
        defer { reader.close() }
        let wrong = try workload.mismatches(reader: reader.reader(key), expected: workload.expected())
        #expect(wrong.isEmpty, "seed \(seed), worker-\(victim) killed after \(killAt) records: \(wrong.prefix(5))")
    }

    @Test(
        .enabled(if: BuiltExecutables.directory != nil, "sluice-master/sluice-worker are not built"),
        arguments: KillSeeds.all)
    func primaryKilledDuringFetchLosesNothing(seed: UInt64) throws {
        let cluster = try Self.cluster(seed)
        defer { cluster.shutdown() }
        var generator = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15)
        let workload = Self.workload(seed)
        let key = ShuffleKey(applicationId: "loss-fetch-\(seed)", shuffleId: 0)
        let client = try Self.client(cluster, key.applicationId)
        defer { client.close() }
        let handle = try client.registerShuffle(key, numMappers: workload.mappers, numPartitions: workload.partitions)
        try workload.writeAll(client: client, handle: handle) { _ in }
        let expected = workload.expected()
        // The victim is the primary of the last partition, so the read reaches a dead primary after the kill.
        let last = try #require(handle.locations.locations.first { $0.partitionId == workload.partitions - 1 })
        let victim = try #require(last.primary.flatMap { cluster.index(of: $0.workerId) })
        let batchEstimate = expected.count  // at least one batch per non-empty pair
        let killAt = Int.random(in: 1...max(1, batchEstimate * 3 / 4), using: &generator)
        let reader = client.reader(key)
        var killed = false
        let wrong = try workload.mismatches(reader: reader, expected: expected) { consumed in
            guard consumed == killAt else { return }
            cluster.kill(worker: victim)
            killed = true
        }
        #expect(killed, "seed \(seed): the kill point was never reached")
        #expect(wrong.isEmpty, "seed \(seed), worker-\(victim) killed after \(killAt) batches: \(wrong.prefix(5))")
        #expect(reader.failovers > 0, "seed \(seed): the last partition's primary was dead, so its replica was read")
    }

    /// A worker killed and started again with the same id and storage (`ProcessCluster.restartWorker`, as the soak
    /// in sluice-bench does) registers again and gets new partitions, and what was written before the kill reads
    /// back whole (from its recovered files or the replicas).
    @Test(.enabled(if: BuiltExecutables.directory != nil, "sluice-master/sluice-worker are not built"))
    func restartedWorkerRejoinsAndNothingIsLost() throws {
        let cluster = try ProcessCluster(workers: 3)
        defer { cluster.shutdown() }
        let workload = SeededShuffle(seed: 99, mappers: 4, partitions: 12, recordsPerMap: 300)
        let client = SluiceClient(config: Self.clientConfig(cluster.masterEndpoint))
        defer { client.close() }
        let key = ShuffleKey(applicationId: "restart", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: workload.mappers, numPartitions: workload.partitions)
        try workload.writeAll(client: client, handle: handle) { _ in }
        let oldPid = cluster.workers[0].pid
        cluster.kill(worker: 0)
        try cluster.restartWorker(index: 0)
        #expect(cluster.workers.count == 3 && cluster.workers[0].pid != oldPid)
        var probe: UInt32 = 0
        try waitUntil("the restarted worker gets partitions again", timeoutMs: 20_000, pollIntervalMs: 50) {
            probe += 1
            let probeKey = ShuffleKey(applicationId: "restart-probe", shuffleId: probe)
            guard let placed = try? client.registerShuffle(probeKey, numMappers: 1, numPartitions: 12) else {
                return false
            }
            try? client.master.unregisterShuffle(probeKey)
            return placed.locations.locations.contains { $0.primary?.workerId == cluster.workerIds[0] }
        }
        let wrong = try workload.mismatches(reader: client.reader(key), expected: workload.expected())
        #expect(wrong.isEmpty, "after a restart: \(wrong.prefix(5))")
    }

    /// Without replication the restarted worker's recovered files are the only copy: a worker killed with SIGKILL
    /// after its shuffle was written and read (a read writes a file's buffered bytes out first: what is still buffered
    /// in the worker's memory dies with the process, which is why replication exists), then started again with the
    /// same id and directories (two tiers, the first small, so files sit in both), serves every finished partition
    /// from its recovered files, and the master points readers back at it.
    @Test(.enabled(if: BuiltExecutables.directory != nil, "sluice-master/sluice-worker are not built"))
    func restartedWorkerServesItsRecoveredFilesWithoutReplicas() throws {
        let cluster = try ProcessCluster(
            workers: 2,
            workerArguments: { _, storage in
                [
                    "--tiers",
                    "kind=nvme dirs=\(storage)/nvme capacity=256k high=0.5 low=0.25; kind=ebs dirs=\(storage)/ebs",
                ]
            })
        defer { cluster.shutdown() }
        let workload = SeededShuffle(seed: 7, mappers: 4, partitions: 16, recordsPerMap: 400)
        var config = Self.clientConfig(cluster.masterEndpoint)
        config.replicate = false
        let client = SluiceClient(config: config)
        defer { client.close() }
        let key = ShuffleKey(applicationId: "restart-alone", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: workload.mappers, numPartitions: workload.partitions)
        try workload.writeAll(client: client, handle: handle) { _ in }
        let locations = try client.master.allLocations(key)
        #expect(locations.allSatisfy { $0.replica == nil })
        #expect(locations.contains { $0.primary?.workerId == cluster.workerIds[0] }, "worker-0 holds some partitions")
        let before = try workload.mismatches(reader: client.reader(key), expected: workload.expected())
        #expect(before.isEmpty, "before the kill: \(before.prefix(5))")

        // The ebs tier's files come back from its manifest (docs/storage.md), the nvme tier's by a scan.
        let manifest = cluster.storageDirectory(worker: 0) + "/ebs/.sluice-manifest"
        #expect(access(manifest, F_OK) == 0, "the ebs directory keeps a manifest")
        // Waits for the new port in the shuffle's locations too: a restart quicker than the master's liveness check
        // has the master place on the old registration until the new one lands.
        try Self.killAndRestart(cluster, worker: 0, key: key, client: client)
        let wrong = try workload.mismatches(reader: client.reader(key), expected: workload.expected())
        #expect(wrong.isEmpty, "after a SIGKILL and restart without replicas: \(wrong.prefix(5))")
    }
}
