import SluiceClient
import SluiceCompression
import SluiceCore
import SluiceTestKit
import Testing

@Suite(.serialized) struct EndToEndTests {
    static let winner: @Sendable (UInt32) -> UInt64 = { 1_000 + UInt64($0) }

    @Test func fortyMappersThreeHundredPartitionsReadBackExactly() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let data = ShuffleData(mappers: 40, partitions: 300)
        let key = ShuffleKey(applicationId: "app-e2e", shuffleId: 0)
        let clients = [cluster.client(codec: .none), cluster.client(codec: .lz4), cluster.client(codec: .zstd)]
        defer { for client in clients { client.close() } }
        let handle = try clients[0].registerShuffle(key, numMappers: 40, numPartitions: 300)
        #expect(
            handle.locations.locations.allSatisfy { $0.primary != nil && $0.replica != nil && $0.primary != $0.replica }
        )

        // A failed first attempt of map 3 pushes garbage for every partition before the winner runs.
        let loser = clients[1].writer(handle, mapIndex: 3, attemptId: 99)
        for p in UInt32(0)..<300 { try loser.write(partitionId: p, bytes: Array("garbage \(p)".utf8)) }
        _ = try loser.close()

        // Mixed codecs: each third of the maps pushes through a client with another codec.
        for (index, client) in clients.enumerated() {
            let part = ShuffleData(mappers: 40, partitions: 300)
            _ = try writeSubset(part, client: client, handle: handle, maps: Set((0..<40).filter { $0 % 3 == index }))
        }

        // A retried push: map 5's first batch for partition 2 arrives again (different bytes, same identity).
        let duplicate = try BatchCodec.encode(
            raw: Array("DUPLICATE".utf8)[...], codec: .none, mapIndex: 5,
            attemptId: Self.winner(5), sequence: 0, isLast: false)
        #expect(
            try pushRaw(
                Batch(header: duplicate.header, payload: duplicate.stored[...]), partitionId: 2,
                handle: handle) == .ok)

        let reader = clients[1].reader(key)
        let wrong = try data.mismatches(reader: reader, attemptId: Self.winner)
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }

    /// `worker.testPushDelay` (the Spark slowest-worker test's slow worker): no push is acknowledged before it.
    @Test func testPushDelayHoldsEveryAnswer() throws {
        let delay = Duration.milliseconds(400)
        let cluster = try MiniCluster(workers: 2, workerOverrides: ["worker.testPushDelay": "400ms"])
        defer { cluster.shutdown() }
        let client = cluster.client()
        defer { client.close() }
        let key = ShuffleKey(applicationId: "app-delay", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 1, numPartitions: 4)
        let writer = client.writer(handle, mapIndex: 0, attemptId: Self.winner(0))
        for partition in UInt32(0)..<4 { try writer.write(partitionId: partition, bytes: Array("p\(partition)".utf8)) }
        let started = ContinuousClock.now
        _ = try writer.close()
        let waited = ContinuousClock.now - started
        #expect(waited >= delay, "acknowledged after \(waited), before the configured \(delay)")
    }

    @Test func missingBatchOfWinningAttemptFailsTheRead() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let client = cluster.client()
        defer { client.close() }
        let key = ShuffleKey(applicationId: "app-gap", shuffleId: 1)
        let handle = try client.registerShuffle(key, numMappers: 2, numPartitions: 1)
        for sequence: UInt32 in [0, 2] {
            let encoded = try BatchCodec.encode(
                raw: Array("part \(sequence)".utf8)[...], codec: .lz4, mapIndex: 0,
                attemptId: 7, sequence: sequence, isLast: sequence == 2)
            #expect(
                try pushRaw(
                    Batch(header: encoded.header, payload: encoded.stored[...]), partitionId: 0,
                    handle: handle) == .ok)
        }
        let reader = client.reader(key)
        #expect(throws: ReadError.self) {
            try reader.read(partitionId: 0, winners: [0: 7], nonEmptyMaps: [0]) { _, _ in }
        }
        // A map the driver says is non-empty but which wrote nothing here is a failure too.
        #expect(throws: ReadError.self) {
            try reader.read(partitionId: 0, winners: [1: 8], nonEmptyMaps: [1]) { _, _ in }
        }
    }

    @Test func primaryKilledAfterPushesEveryPartitionReadsFromReplica() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let client = cluster.client()
        defer { client.close() }
        var data = ShuffleData(mappers: 10, partitions: 60)
        data.bigRecordBytes = 256 << 10
        let key = ShuffleKey(applicationId: "app-kill", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 10, numPartitions: 60)
        _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)
        cluster.stopWorker(0)
        let reader = client.reader(key)
        #expect(try data.mismatches(reader: reader, attemptId: Self.winner).isEmpty)
        #expect(reader.failovers > 0, "worker 0 was primary of some partitions, so reads must have failed over")
    }

    @Test func restartedMasterRelearnsLocationsAndReadsSucceed() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        var data = ShuffleData(mappers: 10, partitions: 60)
        data.bigRecordBytes = 256 << 10
        let key = ShuffleKey(applicationId: "app-restart", shuffleId: 0)
        let writerClient = cluster.client()
        let handle = try writerClient.registerShuffle(key, numMappers: 10, numPartitions: 60)
        _ = try data.writeAll(client: writerClient, handle: handle, attemptId: Self.winner)
        writerClient.close()

        try cluster.restartMaster()
        #expect(cluster.master.snapshot.shuffleKeys.isEmpty, "a restarted master starts empty")
        try waitUntil("workers re-registered with their partitions") {
            let state = cluster.master.snapshot
            return state.workers.count == 2 && state.shuffleKeys == [key]
        }
        let client = cluster.client()
        defer { client.close() }
        #expect(try data.mismatches(reader: client.reader(key), attemptId: Self.winner).isEmpty)
    }

    private func writeSubset(
        _ data: ShuffleData, client: SluiceClient, handle: ShuffleHandle,
        maps: Set<UInt32>
    ) throws -> Int {
        var written = 0
        for m in maps.sorted() {
            let writer = client.writer(handle, mapIndex: m, attemptId: Self.winner(m))
            for p in 0..<data.partitions {
                for record in data.records(map: m, partition: p) { try writer.write(partitionId: p, bytes: record) }
            }
            _ = try writer.close()
            written += 1
        }
        return written
    }
}
