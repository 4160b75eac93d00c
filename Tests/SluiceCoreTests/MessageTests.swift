import Testing

@testable import SluiceCore

@Suite struct MessageTests {
    static let key = ShuffleKey(applicationId: "app-1", shuffleId: 4)
    static let workerA = WorkerAddress(workerId: "w-a", host: "127.0.0.1", port: 9100)
    static let workerB = WorkerAddress(workerId: "w-b", host: "127.0.0.1", port: 9101)
    static let batch = Batch(
        header: BatchHeader(
            mapIndex: 1, attemptId: 77, sequence: 2, flags: .last, codec: .none,
            rawLength: 3, storedLength: 3, crc32c: 5),
        payload: [1, 2, 3])

    func roundTrip<M: WireMessage & Equatable>(_ message: M) throws {
        let decoded = try M.decode(body: message.encoded())
        #expect(decoded == message)
        // Every strict prefix must fail to decode, never crash or succeed with different content.
        let bytes = message.encoded()
        for cut in 0..<bytes.count {
            if let partial = try? M.decode(body: Array(bytes.prefix(cut))) {
                #expect(partial != message, "prefix of \(cut) bytes decoded as the whole message")
            }
        }
    }

    @Test func controlMessagesRoundTrip() throws {
        try roundTrip(
            RegisterWorkerRequest(
                address: Self.workerA, httpPort: 9200, capacityBytes: 100, freeBytes: 50,
                held: [
                    HeldPartition(
                        shuffle: Self.key, partitionId: 3, epoch: 1,
                        role: .replica, bytes: 99)
                ]))
        try roundTrip(RegisterWorkerResponse(heartbeatIntervalMs: 1000))
        try roundTrip(WorkerHeartbeatRequest(workerId: "w-a", freeBytes: 1, draining: true, shuffles: [Self.key]))
        try roundTrip(
            WorkerHeartbeatRequest(
                workerId: "w-a", freeBytes: 3, shuffles: [Self.key],
                tiers: [
                    TierSpace(kind: "nvme", freeBytes: 1, capacityBytes: 10),
                    TierSpace(kind: "fsx", freeBytes: 2, capacityBytes: 1 << 40),
                ]))
        // The trailing decommission flag is optional on the wire (older masters omit it): only a message that sets
        // it has no prefix that decodes as itself.
        try roundTrip(WorkerHeartbeatResponse(resync: true, shufflesToDelete: [Self.key], decommissioned: true))
        let plain = WorkerHeartbeatResponse(resync: true, shufflesToDelete: [Self.key])
        #expect(try WorkerHeartbeatResponse.decode(body: plain.encoded()) == plain)
        try roundTrip(WorkerHeartbeatResponse(head: ResponseHead(.unknownWorker, "who?")))
        try roundTrip(RegisterShuffleRequest(shuffle: Self.key, numMappers: 40, numPartitions: 300, replicate: true))
        try roundTrip(GetLocationsRequest(shuffle: Self.key))
        try roundTrip(ApplicationRequest(applicationId: "app-1"))
        try roundTrip(UnregisterShuffleRequest(shuffle: Self.key))
        try roundTrip(ReviveRequest(shuffle: Self.key, partitionId: 9, failedEpoch: 0, failedWorkerId: "w-a"))
        try roundTrip(StatusResponse(ResponseHead(.noWorkers, "none alive")))
    }

    @Test func locationTableIsCompactAndRoundTrips() throws {
        var locations: [PartitionLocation] = []
        for p in 0..<100 {
            let even = p % 2 == 0
            locations.append(
                PartitionLocation(
                    partitionId: UInt32(p), epoch: 0, primary: even ? Self.workerA : Self.workerB,
                    replica: even ? Self.workerB : Self.workerA))
        }
        locations.append(PartitionLocation(partitionId: 5, epoch: 1, primary: Self.workerB, replica: nil))
        let table = LocationTable(locations)
        #expect(table.workers.count == 2)
        #expect(table.locations == locations)
        try roundTrip(LocationsResponse(table: table))
        try roundTrip(LocationsResponse(head: ResponseHead(.unknownShuffle, "gone")))
    }

    @Test func locationTableRejectsOutOfRangeWorkerIndex() throws {
        var writer = WireWriter()
        LocationTable([PartitionLocation(partitionId: 0, epoch: 0, primary: Self.workerA, replica: nil)])
            .encode(into: &writer)
        var bytes = writer.bytes
        bytes[bytes.count - 4] = 0x00
        bytes[bytes.count - 3] = 0x07  // primaryIndex = 7, only one worker
        var reader = WireReader(bytes)
        #expect(throws: ProtocolError.self) { try LocationTable.decode(from: &reader) }
    }

    @Test func dataMessagesRoundTrip() throws {
        let entries = [
            PushEntry(partitionId: 1, epoch: 0, replica: Self.workerB, batch: Self.batch),
            PushEntry(partitionId: 2, epoch: 3, replica: nil, batch: Self.batch),
        ]
        let push = PushRequest(shuffle: Self.key, role: .primary, entries: entries)
        #expect(push.frameType == .pushBatches)
        try roundTrip(push)
        try roundTrip(PushResponse(head: ResponseHead(.softSplit, ""), entryStatuses: [.ok, .softSplit]))
        try roundTrip(
            OpenStreamRequest(
                shuffle: Self.key, partitionId: 1, epoch: 0, role: .replica, mapRange: 3..<9,
                acceptedCodecs: Codec.lz4.maskBit))
        try roundTrip(OpenStreamResponse(streamId: 12, chunkCount: 3, storedBytes: 1 << 33))
        try roundTrip(FetchChunkRequest(streamId: 12, chunkIndex: 2))
        try roundTrip(FetchChunkResponse(data: [9, 9, 9]))
        try roundTrip(CloseStreamRequest(streamId: 12))
    }

    @Test func pushPartsJoinToTheBodyAndShareLargePayloads() throws {
        func batch(_ bytes: Int, _ fill: UInt8) -> Batch {
            let payload = [UInt8](repeating: fill, count: bytes)
            return Batch(
                header: BatchHeader(
                    mapIndex: 1, attemptId: 2, sequence: 3, flags: [], codec: .none,
                    rawLength: UInt32(bytes), storedLength: UInt32(bytes), crc32c: 0),
                payload: payload[...])
        }
        let entries = [
            PushEntry(partitionId: 1, epoch: 0, replica: Self.workerB, batch: batch(10, 1)),
            PushEntry(partitionId: 2, epoch: 0, replica: nil, batch: batch(70_000, 2)),
            PushEntry(partitionId: 3, epoch: 1, replica: Self.workerA, batch: batch(5, 3)),
            PushEntry(partitionId: 4, epoch: 2, replica: nil, batch: batch(100_000, 4)),
        ]
        let push = PushRequest(shuffle: Self.key, role: .primary, entries: entries)
        let parts = push.encodedParts(sharedPayloadBytes: 65_536)
        #expect(Array(parts.joined()) == push.encodedBody())
        // Small pieces packed together; each large payload is its own part, the batch's own storage.
        #expect(parts.count == 4)
        #expect(parts[1].count == 70_000 && parts[3].count == 100_000)
        let shared = parts[1].withUnsafeBytes { part in
            entries[1].batch.payload.withUnsafeBytes { payload in part.baseAddress == payload.baseAddress }
        }
        #expect(shared)
        #expect(try PushRequest.decode(body: Array(parts.joined())[...]) == push)
    }

    @Test func replicaPushMayNotNameAnotherReplica() {
        let push = PushRequest(
            shuffle: Self.key, role: .replica,
            entries: [PushEntry(partitionId: 1, epoch: 0, replica: Self.workerB, batch: Self.batch)])
        #expect(throws: ProtocolError.self) { try PushRequest.decode(body: push.encoded()) }
    }

    @Test func fetchPrefixMatchesEncodedResponse() throws {
        let data: [UInt8] = [1, 2, 3, 4]
        #expect(FetchChunkResponse.okPrefix(dataLength: 4) + data == FetchChunkResponse(data: data[...]).encoded())
    }

    @Test func headOnlyPushReplyAppliesToEveryEntry() throws {
        let reply = try PushResponse.decode(body: ErrorResponse(.malformed, "bad").encode())
        #expect(reply.statuses(count: 3) == [.malformed, .malformed, .malformed])
    }

    /// A heartbeat from a worker that predates tier reports (nothing after its shuffles) reads as no tiers, and a
    /// tier count past the limit is refused.
    @Test func heartbeatsWithoutTiersDecodeAndTooManyTiersAreRefused() throws {
        let old = WorkerHeartbeatRequest(workerId: "w", freeBytes: 5, shuffles: [Self.key]).encoded()
        #expect(try WorkerHeartbeatRequest.decode(body: old).tiers.isEmpty)
        var tooMany = old
        tooMany.append(UInt8(TierSpace.maxCount + 1))
        #expect(throws: ProtocolError.self) { _ = try WorkerHeartbeatRequest.decode(body: tooMany) }
    }

    /// A heartbeat answer from a master that predates `decommissioned` (no trailing byte) reads as not decommissioned.
    @Test func heartbeatAnswersWithoutTheDecommissionFlagStillDecode() throws {
        var old = WorkerHeartbeatResponse(shufflesToDelete: [Self.key]).encoded()
        old.removeLast()
        let decoded = try WorkerHeartbeatResponse.decode(body: old)
        #expect(decoded.shufflesToDelete == [Self.key] && !decoded.decommissioned)
    }
}
