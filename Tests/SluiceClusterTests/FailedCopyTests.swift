import SluiceClient
import SluiceCore
import SluiceTestKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A worker whose disk fails under acknowledged, still-buffered batches must not serve its short copy as whole.
@Suite struct FailedCopyTests {
    @Test func aCopyWhoseWriterFailedIsRefusedAndTheReplicaIsRead() throws {
        let failingDisk = FaultInjectingSystem()
        let cluster = try MiniCluster(workers: 2, workerSystems: [0: failingDisk])
        defer { cluster.shutdown() }
        let startupWrites = failingDisk.count(.pwrite)  // the storage directory's write probe
        let client = cluster.client(codec: .none)
        defer { client.close() }
        var data = ShuffleData(mappers: 4, partitions: 12)
        data.bigRecordBytes = 1_000  // every pair stays in the workers' flush buffers until a read flushes it
        let key = ShuffleKey(applicationId: "app-failed-copy", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: data.mappers, numPartitions: data.partitions)
        let onFailingWorker = handle.locations.locations.filter { $0.primary?.workerId == "worker-0" }
        try #require(!onFailingWorker.isEmpty, "some partition must have its primary on the failing worker")
        _ = try data.writeAll(client: client, handle: handle, attemptId: { 100 + UInt64($0) })
        #expect(failingDisk.count(.pwrite) == startupWrites, "the batches were acknowledged while still buffered")

        // The disk fails: the first read of each of worker-0's files flushes, fails, and marks its writer failed.
        failingDisk.fail(.pwrite, errno: EIO)
        let reader = client.reader(key)
        // A reader that cannot tell which maps wrote to a partition: only the worker can say its copy is short.
        let wrong = try data.mismatches(reader: reader, attemptId: { 100 + UInt64($0) }, knowsNonEmptyMaps: false)
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
        #expect(failingDisk.count(.pwrite) > startupWrites)
        #expect(reader.failovers >= onFailingWorker.count, "each primary on the failing worker was refused")
    }
}
