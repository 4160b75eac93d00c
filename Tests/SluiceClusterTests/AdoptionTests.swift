import SluiceClient
import SluiceCore
import SluiceTestKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A worker lost for good has its `fsx` files adopted by another worker mounting the same directory, which serves
/// them: over processes, with replication off so the lost worker's files are the only copy.
@Suite(.serialized) struct AdoptionTests {
    @Test(.enabled(if: BuiltExecutables.directory != nil, "sluice-master/sluice-worker are not built"))
    func aWorkerLostForGoodHasItsFsxFilesServedByAnother() throws {
        let shared = try TempDirectory(prefix: "sluice-fsx-")
        defer { shared.remove() }
        let fsx = shared.path
        let cluster = try ProcessCluster(
            workers: 2,
            masterArguments: ["--worker-heartbeat-timeout", "1s", "--worker-adoption-delay", "300ms"],
            workerArguments: { _, _ in ["--tiers", "kind=fsx dirs=\(fsx) capacity=1g"] })
        defer { cluster.shutdown() }
        let workload = SeededShuffle(seed: 11, mappers: 4, partitions: 16, recordsPerMap: 400)
        var config = WorkerLossTests.clientConfig(cluster.masterEndpoint)
        config.replicate = false
        let client = SluiceClient(config: config)
        defer { client.close() }
        let key = ShuffleKey(applicationId: "adopt-fsx", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: workload.mappers, numPartitions: workload.partitions)
        try workload.writeAll(client: client, handle: handle) { _ in }
        let lostId = cluster.workerIds[0]
        let before = try client.master.allLocations(key)
        #expect(before.allSatisfy { $0.replica == nil })
        #expect(before.contains { $0.primary?.workerId == lostId }, "worker-0 holds some partitions")
        // A read writes each file's buffered bytes out (and records them in the manifest).
        let read = try workload.mismatches(reader: client.reader(key), expected: workload.expected())
        #expect(read.isEmpty, "before the kill: \(read.prefix(5))")
        #expect(access(fsx + "/" + lostId + "/.sluice-manifest", F_OK) == 0, "worker-0 keeps a manifest in its folder")

        cluster.kill(worker: 0)
        try waitUntil("worker-1 adopted worker-0's fsx files", timeoutMs: 30_000, pollIntervalMs: 100) {
            let locations = (try? client.master.allLocations(key)) ?? []
            return !locations.isEmpty && locations.allSatisfy { $0.primary?.workerId == cluster.workerIds[1] }
        }
        let wrong = try workload.mismatches(reader: client.reader(key), expected: workload.expected())
        #expect(wrong.isEmpty, "read from the adopter: \(wrong.prefix(5))")
    }
}
