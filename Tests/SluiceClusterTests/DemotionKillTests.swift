import SluiceClient
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Synchronization
import Testing

/// A worker process SIGKILLed while it demotes files (slowly, so the kill lands in the middle of a move) and
/// started again with the same directories: recovery leaves one copy of each file, no half-moved copy, and every
/// partition reads back from the recovered files (replication off: there is no other copy).
@Suite(.serialized) struct DemotionKillTests {
    /// The regular files under `directory` (recursively), as paths relative to it.
    static func files(under directory: String, prefix: String = "") -> [String] {
        guard let entries = try? PosixSystem().listDirectory(path: directory) else { return [] }
        return entries.flatMap { entry -> [String] in
            let relative = prefix + entry.name
            if entry.isDirectory { return files(under: directory + "/" + entry.name, prefix: relative + "/") }
            return [relative]
        }
    }

    /// Partition files of a tier directory (the recycled-file pool left out).
    static func dataFiles(_ directory: String) -> [String] {
        files(under: directory).filter { $0.hasSuffix(".data") && !$0.hasPrefix(".recycle/") }
    }

    /// Set before the restart: the restarted worker runs with demotion off, so what recovery left stays in place
    /// for the checks.
    final class Restarted: Sendable {
        let value = Mutex(false)
    }

    @Test(
        .enabled(if: BuiltExecutables.directory != nil, "sluice-master/sluice-worker are not built"),
        arguments: Array(KillSeeds.all.prefix(3)))
    func workerKilledWhileDemotingKeepsOneValidCopyOfEveryFile(seed: UInt64) throws {
        let restarted = Restarted()
        let cluster = try ProcessCluster(
            workers: 2,
            workerArguments: { _, storage in
                let rate = restarted.value.withLock { $0 } ? "0" : "32k"
                return [
                    "--tiers",
                    "kind=nvme dirs=\(storage)/nvme capacity=256k high=0.5 low=0.1; "
                        + "kind=ebs dirs=\(storage)/ebs capacity=512k high=0.5 low=0.25; "
                        + "kind=fsx dirs=\(storage)/fsx capacity=256m reencode=zstd",
                    "--demotion-idle-time", "0", "--demotion-check-interval", "20ms", "--demotion-rate", rate,
                ]
            })
        defer { cluster.shutdown() }
        let storage = cluster.storageDirectory(worker: 0)
        let workload = SeededShuffle(seed: seed, mappers: 4, partitions: 64, recordsPerMap: 400)
        var config = WorkerLossTests.clientConfig(cluster.masterEndpoint)
        config.replicate = false
        let client = SluiceClient(config: config)
        defer { client.close() }
        let key = ShuffleKey(applicationId: "demotion-kill-\(seed)", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: workload.mappers, numPartitions: workload.partitions)
        try workload.writeAll(client: client, handle: handle) { _ in }
        // A read writes every buffer out: what is acknowledged is then in the files the kill leaves.
        let before = try workload.mismatches(reader: client.reader(key), expected: workload.expected())
        #expect(before.isEmpty, "before the kill: \(before.prefix(5))")

        // Kill once a seeded number of files left the first tier, and (even seeds) while a copy is under way.
        let startCount = Self.dataFiles(storage + "/nvme").count
        let departures = 1 + Int(seed % 2)
        try #require(startCount > departures, "worker-0's first tier holds files to demote: \(startCount)")
        try waitUntil("\(departures) files demoted", timeoutMs: 60_000, pollIntervalMs: 5) {
            Self.dataFiles(storage + "/nvme").count <= startCount - departures
        }
        if seed % 2 == 0 {
            try waitUntil("a copy under way", timeoutMs: 30_000, pollIntervalMs: 1) {
                Self.files(under: storage).contains { $0.hasSuffix(".moving") }
            }
        }
        restarted.value.withLock { $0 = true }
        try WorkerLossTests.killAndRestart(cluster, worker: 0, key: key, client: client)

        let all = Self.files(under: storage)
        #expect(!all.contains { $0.hasSuffix(".moving") }, "recovery deleted the half-moved copy")
        let held = ["nvme", "ebs", "fsx"].flatMap { Self.dataFiles(storage + "/" + $0) }
        #expect(Set(held).count == held.count, "one copy of each file: \(held)")
        let wrong = try workload.mismatches(reader: client.reader(key), expected: workload.expected())
        #expect(wrong.isEmpty, "after a SIGKILL mid-demotion and a restart: \(wrong.prefix(5))")
    }
}
