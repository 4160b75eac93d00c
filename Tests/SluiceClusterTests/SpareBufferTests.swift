import SluiceClient
import SluiceCore
import SluiceTestKit
import Testing

@testable import SluiceClient

@Suite(.serialized) struct SpareBufferTests {
    @Test func keptBuffersComeBackEmptyOldestFirstAndBounded() {
        let spares = SpareBuffers(minimumCapacityBytes: 1000, maxCount: 2)
        let first = [UInt8](repeating: 1, count: 1000)
        let second = [UInt8](repeating: 2, count: 1200)
        spares.give(first[...])
        spares.give(second[...])
        spares.give([UInt8](repeating: 3, count: 1000)[...])
        spares.give([UInt8](repeating: 4, count: 10)[...])
        #expect(spares.count == 2, "bounded, and a small buffer is not kept")
        let taken = spares.take()
        #expect(taken.isEmpty && taken.capacity >= 1000)
        #expect(spares.take().capacity >= 1200, "oldest first")
        #expect(spares.reusedCount == 2)
        #expect(spares.take().capacity >= 1000, "a fresh buffer is full size too")
        #expect(spares.reusedCount == 2)
    }

    @Test func trackerKeepsOnlyAcknowledgedPayloads() {
        let spares = SpareBuffers(minimumCapacityBytes: 100, maxCount: 8)
        let tracker = PushTracker(spareBuffers: spares)
        func outgoing(_ fill: UInt8) -> OutgoingBatch {
            let payload = [UInt8](repeating: fill, count: 100)
            let header = BatchHeader(
                mapIndex: 0, attemptId: 1, sequence: UInt32(fill), flags: [], codec: .none,
                rawLength: 100, storedLength: 100, crc32c: 0)
            return OutgoingBatch(partitionId: 0, batch: Batch(header: header, payload: payload[...]), attempts: 0)
        }
        tracker.complete(
            [outgoing(1), outgoing(2), outgoing(3)], epochs: [0, 0, 0], suspects: ["w", "w", "w"],
            statuses: [.ok, .ioError, .softSplit])
        #expect(spares.count == 2, "the failed batch keeps its payload for the resend")
        #expect(tracker.takeOutcomes().failed.map(\.outgoing.batch.payload) == [[UInt8](repeating: 2, count: 100)[...]])
    }

    /// Many full batches per partition, uncompressed and compressed: buffers are reused and every byte reads back.
    @Test(arguments: [Codec.none, .lz4])
    func reusedBuffersCarryEveryByteExactly(codec: Codec) throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        // One push in flight: a push is sent only after the previous one was acknowledged (and gave back its buffers).
        let client = SluiceClient(
            config: ClientConfig(
                masterEndpoint: cluster.masterEndpoint, codec: codec,
                pushBufferBytes: 8 << 10, mergedPushBytes: 16 << 10,
                maxInFlightPushesPerWorker: 1, maxInFlightPushesTotal: 1,
                requestTimeoutMs: 10_000))
        defer { client.close() }
        let key = ShuffleKey(applicationId: "app-spares-\(codec)", shuffleId: 1)
        let partitions: UInt32 = 4
        let handle = try client.registerShuffle(key, numMappers: 1, numPartitions: partitions)
        let writer = client.writer(handle, mapIndex: 0, attemptId: 5)
        var expected = [[UInt8]](repeating: [], count: Int(partitions))
        for record in 0..<600 {
            let partition = record % Int(partitions)
            let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ record &* 13) }
            try writer.write(partitionId: UInt32(partition), bytes: bytes)
            expected[partition] += bytes
        }
        let result = try writer.close()
        #expect(result.partitionRawBytes.allSatisfy { $0 == 150_000 })
        #expect(writer.spareBuffers.reusedCount > 0 || codec != .none, "acknowledged buffers were refilled")

        let reader = client.reader(key)
        for partition in 0..<partitions {
            var read: [UInt8] = []
            try reader.read(partitionId: partition, winners: [0: 5], nonEmptyMaps: [0]) { _, bytes in read += bytes }
            #expect(read == expected[Int(partition)], "partition \(partition)")
        }
    }

    /// A partition of many 1.75 MiB chunks read over one connection: later chunks are read into the bodies of
    /// earlier ones, and every byte reads back.
    @Test func fetchedChunksAreReadIntoRecycledBodies() throws {
        let cluster = try MiniCluster(workers: 1, workerOverrides: ["worker.chunkTargetSize": "2MiB"])
        defer { cluster.shutdown() }
        // Accepting only uncompressed chunks, so that they travel at full size (sendfile).
        let client = SluiceClient(
            config: ClientConfig(
                masterEndpoint: cluster.masterEndpoint, codec: .none,
                requestTimeoutMs: 10_000, acceptedCodecs: Codec.none.maskBit,
                replicate: false, connectionsPerWorker: 1))
        defer { client.close() }
        let key = ShuffleKey(applicationId: "app-chunks", shuffleId: 1)
        let handle = try client.registerShuffle(key, numMappers: 1, numPartitions: 1)
        let writer = client.writer(handle, mapIndex: 0, attemptId: 3)
        var expected: [UInt8] = []
        for record in 0..<512 {
            let bytes = (0..<32_768).map { UInt8(truncatingIfNeeded: $0 &* 3 &+ record &* 11) }
            try writer.write(partitionId: 0, bytes: bytes)
            expected += bytes
        }
        _ = try writer.close()

        var read: [UInt8] = []
        try client.reader(key).read(partitionId: 0, winners: [0: 3], nonEmptyMaps: [0]) { _, bytes in read += bytes }
        #expect(read == expected)
        let primary = try #require(handle.locations.locations.first?.primary)
        let connection = try client.workers.client(endpoint: primary.endpoint)
        #expect((connection.receiveBuffers?.reusedCount ?? 0) > 0, "16 MiB in ~9 chunks, a window of 4")
    }
}
