import SluiceClient
import SluiceCore
import SluiceTestKit
import Testing

/// A worker without replicas whose shuffle went quiet: `worker.idleFlushTime` writes its acknowledged batches out
/// with no read and no full buffer to force them, so a SIGKILL after the quiet period and a restart with the same
/// directories lose nothing. Seeded: the workload's shape, which worker dies, and (odd seeds) two tiers whose
/// second keeps a manifest, with a small first tier so the files sit in both.
@Suite(.serialized) struct IdleFlushKillTests {
    @Test(
        .enabled(if: BuiltExecutables.directory != nil, "sluice-master/sluice-worker are not built"),
        arguments: Array(KillSeeds.all.prefix(4)))
    func workerKilledAfterAQuietPeriodLosesNothing(seed: UInt64) throws {
        let cluster = try ProcessCluster(
            workers: 2,
            workerArguments: { _, storage in
                let tiers =
                    seed % 2 == 1
                    ? [
                        "--tiers",
                        "kind=nvme dirs=\(storage)/nvme capacity=256k high=0.5 low=0.25; kind=ebs dirs=\(storage)/ebs",
                    ]
                    : []
                return ["--idle-flush-time", "50ms"] + tiers
            })
        defer { cluster.shutdown() }
        let workload = SeededShuffle(
            seed: seed, mappers: 4, partitions: 16 + 16 * UInt32(seed % 3), recordsPerMap: 300)
        var config = WorkerLossTests.clientConfig(cluster.masterEndpoint)
        config.replicate = false
        let client = SluiceClient(config: config)
        defer { client.close() }
        let key = ShuffleKey(applicationId: "idle-flush-kill-\(seed)", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: workload.mappers, numPartitions: workload.partitions)
        try workload.writeAll(client: client, handle: handle) { _ in }

        let victim = Int((seed / 2) % 2)
        let appended = try StorageFiles.appendedBytes(httpPort: cluster.workerHTTPPorts[victim])
        #expect(appended > 0, "worker-\(victim) holds some of the shuffle")
        // No read comes: only the idle flush can bring the files to what the worker acknowledged.
        try waitUntil("worker-\(victim)'s acknowledged bytes are all in its files", timeoutMs: 20_000) {
            StorageFiles.dataFileBytes(under: cluster.storageDirectory(worker: victim)) == appended
        }
        try WorkerLossTests.killAndRestart(cluster, worker: victim, key: key, client: client)

        let wrong = try workload.mismatches(reader: client.reader(key), expected: workload.expected())
        #expect(wrong.isEmpty, "after a quiet period, a SIGKILL and a restart without replicas: \(wrong.prefix(5))")
    }
}
