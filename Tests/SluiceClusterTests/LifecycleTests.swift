import SluiceClient
import SluiceCompression
import SluiceCore
import SluiceNet
import SluiceSystem
import SluiceTestKit
import Testing

@Suite(.serialized) struct LifecycleTests {
    static let winner: @Sendable (UInt32) -> UInt64 = { 500 + UInt64($0) }

    func smallData() -> ShuffleData {
        var data = ShuffleData(mappers: 4, partitions: 20)
        data.bigRecordBytes = 64 << 10
        return data
    }

    @Test func aStartingWorkerCreatesItsSpareFilesAndNewPartitionsUseThem() throws {
        let cluster = try MiniCluster(workers: 1)
        defer { cluster.shutdown() }
        // MiniCluster asks each worker for 8 spare files (worker.spareFilesAtStart).
        let pool = cluster.scratch.file("worker-0") + "/.recycle"
        func pooled() -> Int { ((try? PosixSystem().listDirectory(path: pool)) ?? []).count }
        try waitUntil("worker-0 created its spare files") { pooled() == 8 }
        let client = cluster.client()
        defer { client.close() }
        var data = ShuffleData(mappers: 2, partitions: 3)
        data.bigRecordBytes = 1 << 10
        let key = ShuffleKey(applicationId: "app-spare", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 2, numPartitions: 3)
        _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)
        #expect(pooled() == 5, "each of the three partition files came from the pool")
        #expect(try data.mismatches(reader: client.reader(key), attemptId: Self.winner).isEmpty)
    }

    @Test func unregisteredShuffleAndApplicationAreDeletedOnEveryWorker() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let client = cluster.client()
        defer { client.close() }
        let data = smallData()
        let first = ShuffleKey(applicationId: "app-clean", shuffleId: 0)
        let second = ShuffleKey(applicationId: "app-clean", shuffleId: 1)
        let kept = ShuffleKey(applicationId: "app-other", shuffleId: 0)
        for key in [first, second, kept] {
            let handle = try client.registerShuffle(key, numMappers: 4, numPartitions: 20)
            _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)
        }
        #expect(cluster.workers.allSatisfy { Set($0.heldShuffles) == [first, second, kept] })

        try client.master.unregisterShuffle(first)
        try waitUntil("shuffle files deleted on both workers") {
            cluster.workers.allSatisfy { Set($0.heldShuffles) == [second, kept] }
        }
        try client.master.unregisterApplication("app-clean")
        try waitUntil("application files deleted on both workers") {
            cluster.workers.allSatisfy { $0.heldShuffles == [kept] }
        }
        // A late push to a deleted shuffle is refused, not stored again.
        let handle = ShuffleHandle(
            shuffle: second, numMappers: 4, numPartitions: 20,
            locations: try client.master.allLocations(kept).reduce(into: LocationTable()) { $0.append($1) })
        let late = try BatchCodec.encode(
            raw: [1, 2, 3][...], codec: .none, mapIndex: 0, attemptId: 1, sequence: 0,
            isLast: true)
        #expect(
            try pushRaw(Batch(header: late.header, payload: late.stored[...]), partitionId: 0, handle: handle)
                == .shuffleDeleted)
        #expect(try data.mismatches(reader: client.reader(kept), attemptId: Self.winner).isEmpty)
    }

    @Test func silentApplicationExpiresButLiveOneIsKept() throws {
        let cluster = try MiniCluster(workers: 2, applicationTimeoutMs: 600)
        defer { cluster.shutdown() }
        let client = cluster.client()
        defer { client.close() }
        let data = smallData()
        let silent = ShuffleKey(applicationId: "app-silent", shuffleId: 0)
        let live = ShuffleKey(applicationId: "app-live", shuffleId: 0)
        for key in [silent, live] {
            let handle = try client.registerShuffle(key, numMappers: 4, numPartitions: 20)
            _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)
        }
        // The live driver heartbeats while the silent one's application times out.
        try waitUntil("silent application's files deleted") {
            try? client.master.applicationHeartbeat("app-live")
            return cluster.workers.allSatisfy { $0.heldShuffles == [live] }
        }
        #expect(cluster.master.snapshot.applications["app-live"] != nil)
        #expect(try data.mismatches(reader: client.reader(live), attemptId: Self.winner).isEmpty)
    }

    @Test func uncompressedPushesAreServedCompressed() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let client = cluster.client(codec: .none)
        defer { client.close() }
        let key = ShuffleKey(applicationId: "app-codec", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 1, numPartitions: 1)
        let writer = client.writer(handle, mapIndex: 0, attemptId: 1)
        let text = Array(String(repeating: "shuffle row with repetition\n", count: 4_000).utf8)
        try writer.write(partitionId: 0, bytes: text)
        _ = try writer.close()

        let primary = try #require(handle.locations.locations.first?.primary)
        let worker = try FrameClient.connect(host: primary.host, port: Int(primary.port), role: .client, identity: "t")
        defer { worker.close() }
        func fetchAll(accepting codecs: UInt8) throws -> [Batch] {
            let open = OpenStreamRequest(shuffle: key, partitionId: 0, epoch: 0, role: .primary, acceptedCodecs: codecs)
            let opened = try OpenStreamResponse.decode(
                body: try worker.call(type: .openStream, body: open.encoded()).body)
            try opened.head.requireOK()
            var batches: [Batch] = []
            for chunk in 0..<opened.chunkCount {
                let fetch = FetchChunkRequest(streamId: opened.streamId, chunkIndex: chunk)
                let reply = try FetchChunkResponse.decode(
                    body: try worker.call(type: .fetchChunk, body: fetch.encoded()).body)
                try reply.head.requireOK()
                batches += try BatchCodec.splitBatches(Array(reply.data)[...])
            }
            return batches
        }
        let compressed = try fetchAll(accepting: Codec.none.maskBit | Codec.lz4.maskBit)
        let plain = try fetchAll(accepting: Codec.none.maskBit)
        #expect(!compressed.isEmpty && compressed.allSatisfy { $0.header.codec == .lz4 || $0.payload.count < 64 })
        #expect(plain.allSatisfy { $0.header.codec == .none })
        #expect(compressed.reduce(0) { $0 + $1.payload.count } < plain.reduce(0) { $0 + $1.payload.count } / 4)
        #expect(try compressed.flatMap { try BatchCodec.decode($0) } == text)
        #expect(try plain.flatMap { try BatchCodec.decode($0) } == text)
    }

    @Test func pushesToADeadWorkerReviveElsewhere() throws {
        let cluster = try MiniCluster(workers: 3)
        defer { cluster.shutdown() }
        let client = cluster.client()
        defer { client.close() }
        let data = smallData()
        let key = ShuffleKey(applicationId: "app-revive", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 4, numPartitions: 20)
        cluster.stopWorker(0)  // the handle still names it: every push to it must revive
        _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)
        let revived = try client.master.allLocations(key).filter { $0.epoch > 0 }
        #expect(!revived.isEmpty)
        #expect(revived.allSatisfy { $0.primary?.workerId != "worker-0" && $0.replica?.workerId != "worker-0" })
        #expect(try data.mismatches(reader: client.reader(key), attemptId: Self.winner).isEmpty)
    }

    @Test func mapRangeReadReturnsExactlyThoseMaps() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let client = cluster.client()
        defer { client.close() }
        let data = smallData()
        let key = ShuffleKey(applicationId: "app-range", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 4, numPartitions: 20)
        _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)
        let reader = client.reader(key)
        let winners = Dictionary(uniqueKeysWithValues: (UInt32(0)..<4).map { ($0, Self.winner($0)) })
        for partition in UInt32(0)..<20 {
            var got: [UInt32: [UInt8]] = [:]
            try reader.read(
                partitionId: partition, mapRange: 1..<3, winners: winners,
                nonEmptyMaps: data.nonEmptyMaps(partition: partition)
            ) { header, raw in
                got[header.mapIndex, default: []] += raw
            }
            #expect(Set(got.keys).isSubset(of: [1, 2]), "partition \(partition) delivered maps \(got.keys.sorted())")
            for map: UInt32 in [1, 2] {
                #expect((got[map] ?? []) == data.expected(map: map, partition: partition))
            }
        }
    }

    @Test func withoutReplicationLostDataFailsAndARerunOfTheMapsReadsBack() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let client = cluster.client(replicate: false)
        defer { client.close() }
        let data = smallData()
        let key = ShuffleKey(applicationId: "app-rerun", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 4, numPartitions: 20)
        #expect(handle.locations.locations.allSatisfy { $0.replica == nil })
        _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)
        cluster.stopWorker(0)

        // The first attempts' data on worker 0 is gone: reading them must fail, never return short data.
        #expect(throws: ReadError.self) { _ = try data.mismatches(reader: client.reader(key), attemptId: Self.winner) }

        // Spark reruns the map stage: new attempts push through the stale handle, revive away from worker 0,
        // and the reader, given the new winners, reads everything although worker 0's old epochs stay unreadable.
        let rerun: @Sendable (UInt32) -> UInt64 = { 900 + UInt64($0) }
        _ = try data.writeAll(client: client, handle: handle, attemptId: rerun)
        #expect(try data.mismatches(reader: client.reader(key), attemptId: rerun).isEmpty)
    }
}
