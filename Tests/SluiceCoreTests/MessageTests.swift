import Testing
@testable import SluiceCore

@Suite struct MessageTests {
    static let key = ShuffleKey(applicationId: "app-1", shuffleId: 4)
    static let workerA = WorkerAddress(workerId: "w-a", host: "127.0.0.1", port: 9100)
    static let workerB = WorkerAddress(workerId: "w-b", host: "127.0.0.1", port: 9101)
    static let batch = Batch(header: BatchHeader(mapIndex: 1, attemptId: 77, sequence: 2, flags: .last, codec: .none,
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
        try roundTrip(RegisterWorkerRequest(address: Self.workerA, httpPort: 9200, capacityBytes: 100, freeBytes: 50,
                                            held: [HeldPartition(shuffle: Self.key, partitionId: 3, epoch: 1,
                                                                 role: .replica, bytes: 99)]))
        try roundTrip(RegisterWorkerResponse(heartbeatIntervalMs: 1000))
        try roundTrip(WorkerHeartbeatRequest(workerId: "w-a", freeBytes: 1, draining: true, shuffles: [Self.key]))
        try roundTrip(WorkerHeartbeatResponse(resync: true, shufflesToDelete: [Self.key]))
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
            locations.append(PartitionLocation(partitionId: UInt32(p), epoch: 0, primary: even ? Self.workerA : Self.workerB,
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
        bytes[bytes.count - 3] = 0x07 // primaryIndex = 7, only one worker
        var reader = WireReader(bytes)
        #expect(throws: ProtocolError.self) { try LocationTable.decode(from: &reader) }
    }

    @Test func dataMessagesRoundTrip() throws {
        let entries = [PushEntry(partitionId: 1, epoch: 0, replica: Self.workerB, batch: Self.batch),
                       PushEntry(partitionId: 2, epoch: 3, replica: nil, batch: Self.batch)]
        let push = PushRequest(shuffle: Self.key, role: .primary, entries: entries)
        #expect(push.frameType == .pushBatches)
        try roundTrip(push)
        try roundTrip(PushResponse(head: ResponseHead(.softSplit, ""), entryStatuses: [.ok, .softSplit]))
        try roundTrip(OpenStreamRequest(shuffle: Self.key, partitionId: 1, epoch: 0, role: .replica, mapRange: 3..<9,
                                        acceptedCodecs: Codec.lz4.maskBit))
        try roundTrip(OpenStreamResponse(streamId: 12, chunkCount: 3, storedBytes: 1 << 33))
        try roundTrip(FetchChunkRequest(streamId: 12, chunkIndex: 2))
        try roundTrip(FetchChunkResponse(data: [9, 9, 9]))
        try roundTrip(CloseStreamRequest(streamId: 12))
    }

    @Test func replicaPushMayNotNameAnotherReplica() {
        let push = PushRequest(shuffle: Self.key, role: .replica,
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
}
