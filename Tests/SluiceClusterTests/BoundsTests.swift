import SluiceClient
import SluiceCore
import SluiceNet
import SluiceTestKit
import Testing

/// Every bound on what a peer makes a server hold, crossed over the wire: the peer gets a clear error (or its extra
/// connection is closed, with a log line), and the server goes on serving everyone else.
@Suite(.serialized) struct BoundsTests {
    static let winner: @Sendable (UInt32) -> UInt64 = { 700 + UInt64($0) }

    /// The status a call was refused with (nil when it succeeded).
    func refusal(_ body: () throws -> Void) -> StatusCode? {
        do {
            try body()
            return nil
        } catch let error as ClientError {
            return error.status
        } catch {
            return .internalError
        }
    }

    @Test func theMasterRefusesShufflesAndApplicationsPastItsLimitsAndServesTheRest() throws {
        let logs = CapturedLogs()
        let cluster = try MiniCluster(
            workers: 2,
            masterOverrides: [
                "master.maxPartitionsPerShuffle": "100", "master.maxMappersPerShuffle": "8",
                "master.maxApplications": "2", "master.maxShufflesPerApplication": "1",
            ], logs: logs)
        defer { cluster.shutdown() }
        let client = cluster.client()
        defer { client.close() }
        func register(_ app: String, _ shuffleId: UInt32 = 0, mappers: UInt32 = 4, partitions: UInt32 = 10) throws
            -> ShuffleHandle
        {
            try client.registerShuffle(
                ShuffleKey(applicationId: app, shuffleId: shuffleId), numMappers: mappers, numPartitions: partitions)
        }
        #expect(refusal { _ = try register("app-a", partitions: 101) } == .invalidArgument)
        #expect(refusal { _ = try register("app-a", mappers: 9) } == .invalidArgument)
        _ = try register("app-a", mappers: 8, partitions: 100)
        #expect(refusal { _ = try register("app-a", 1) } == .limitExceeded)
        let handle = try register("app-b")
        #expect(refusal { _ = try register("app-c") } == .limitExceeded)
        #expect(refusal { try client.master.applicationHeartbeat("app-c") } == .limitExceeded)
        #expect(
            logs.all.contains {
                $0.message == "shuffle registration refused" && $0.metadata["status"] == "limit-exceeded"
                    && $0.metadata["application.id"] == "app-c"
            })
        // A writer beyond the registered mappers is refused before anything is pushed.
        let stray = client.writer(handle, mapIndex: 4, attemptId: 1)
        #expect(refusal { try stray.write(partitionId: 0, bytes: [1]) } == .invalidArgument)
        // Everyone within the limits is served as before.
        let data = ShuffleData(mappers: 4, partitions: 10)
        _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)
        #expect(try data.mismatches(reader: client.reader(handle.shuffle), attemptId: Self.winner).isEmpty)
    }

    @Test func aWorkerPastTheMastersLimitIsRefusedAndTheOthersServe() throws {
        let logs = CapturedLogs()
        let cluster = try MiniCluster(workers: 1, masterOverrides: ["master.maxWorkers": "1"], logs: logs)
        defer { cluster.shutdown() }
        let extra = try cluster.addWorker(index: 1)
        try waitUntil("the second worker is refused") {
            logs.all.contains {
                $0.message == "worker registration refused" && $0.metadata["worker.id"] == "worker-1"
                    && $0.metadata["status"] == "limit-exceeded"
            }
        }
        #expect(!extra.isRegistered)
        #expect(cluster.master.snapshot.workers.keys.sorted() == ["worker-0"])
        let client = cluster.client()
        defer { client.close() }
        let handle = try client.registerShuffle(
            ShuffleKey(applicationId: "app", shuffleId: 0), numMappers: 2, numPartitions: 4)
        #expect(handle.locations.workers.map(\.workerId) == ["worker-0"])
    }

    @Test func connectionsPastThePerPeerLimitAreClosedAndOtherPeersServed() throws {
        let logs = CapturedLogs()
        let cluster = try MiniCluster(
            workers: 1, workerOverrides: ["worker.maxConnectionsPerPeer": "2"],
            masterOverrides: ["master.maxConnectionsPerPeer": "2"], logs: logs)
        defer { cluster.shutdown() }
        // The master holds worker-0's connection already: one more from 127.0.0.1 fits. The worker holds none.
        for (port, fitting) in [(cluster.masterPort, 1), (cluster.workerPorts[0], 2)] {
            let held = try (0..<fitting).map { _ in try RawConnection(port: port) }
            for connection in held { try connection.sendHello() }
            #expect(try held.allSatisfy { try $0.nextFrame()?.isResponse == true })
            let extra = try RawConnection(port: port)
            #expect(extra.seesEndOfStream(), "a connection past the limit is closed at once")
            let other = try RawConnection(port: port, sourceHost: 2)
            try other.sendHello()
            #expect(try other.nextFrame()?.isResponse == true, "another address is served")
            try other.send(frame: Frame(type: .ping, requestId: 9, body: []))
            #expect(try other.nextFrame()?.requestId == 9)
        }
        #expect(
            logs.all.filter { $0.message == "connection refused: too many connections from the peer's address" }
                .count == 2)
        #expect(cluster.workers[0].isRegistered)
    }

    @Test func streamsPastTheConnectionsLimitAreRefusedAndOtherConnectionsServed() throws {
        let cluster = try MiniCluster(workers: 1, workerOverrides: ["worker.maxOpenStreamsPerConnection": "2"])
        defer { cluster.shutdown() }
        let client = cluster.client(replicate: false)
        defer { client.close() }
        let key = ShuffleKey(applicationId: "app-streams", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 1, numPartitions: 1)
        let writer = client.writer(handle, mapIndex: 0, attemptId: 1)
        try writer.write(partitionId: 0, bytes: [UInt8](repeating: 7, count: 1_000))
        _ = try writer.close()
        let open = OpenStreamRequest(shuffle: key, partitionId: 0, epoch: 0, role: .primary).encoded()
        func openStream(_ connection: FrameClient) throws -> OpenStreamResponse {
            try OpenStreamResponse.decode(body: try connection.call(type: .openStream, body: open).body)
        }
        let greedy = try FrameClient.connect(
            host: "127.0.0.1", port: cluster.workerPorts[0], role: .client, identity: "greedy")
        defer { greedy.close() }
        let first = try openStream(greedy)
        #expect(first.head.status == .ok)
        #expect(try openStream(greedy).head.status == .ok)
        let third = try openStream(greedy)
        #expect(third.head.status == .invalidArgument)
        #expect(third.head.message.contains("open streams on one connection"))
        // The connection itself goes on serving its open streams, and another connection opens its own.
        let chunk = try greedy.call(
            type: .fetchChunk, body: FetchChunkRequest(streamId: first.streamId, chunkIndex: 0).encoded())
        #expect(try ErrorResponse.decode(chunk.body[...]).status == .ok)
        let other = try FrameClient.connect(
            host: "127.0.0.1", port: cluster.workerPorts[0], role: .client, identity: "other")
        defer { other.close() }
        #expect(try openStream(other).head.status == .ok)
    }
}

/// The registration report in pages (`worker.registrationPageSize`): a worker holding more partitions than one page
/// re-registers with a restarted master, and every partition is known and readable afterwards.
@Suite(.serialized) struct PagedRegistrationClusterTests {
    @Test func aWorkerHoldingMoreThanAPageReRegistersWithARestartedMaster() throws {
        let cluster = try MiniCluster(workers: 2, workerOverrides: ["worker.registrationPageSize": "3"])
        defer { cluster.shutdown() }
        let key = ShuffleKey(applicationId: "app-paged", shuffleId: 0)
        let data = ShuffleData(mappers: 4, partitions: 20)
        let writer = cluster.client()
        let handle = try writer.registerShuffle(key, numMappers: 4, numPartitions: 20)
        _ = try data.writeAll(client: writer, handle: handle, attemptId: BoundsTests.winner)
        let before = try writer.master.allLocations(key)
        writer.close()
        let filesPerWorker = Dictionary(
            before.flatMap { $0.copies.map { ($0.worker.workerId, 1) } }, uniquingKeysWith: +)
        #expect(filesPerWorker.count == 2 && filesPerWorker.values.allSatisfy { $0 > 3 }, "several pages each")

        try cluster.restartMaster()
        try waitUntil("both workers re-registered with every page") {
            let state = cluster.master.snapshot
            return state.workers.count == 2 && state.workers.values.allSatisfy(\.registrationComplete)
                && state.slotCandidates.count == 2
        }
        let client = cluster.client()
        defer { client.close() }
        #expect(try client.master.allLocations(key) == before)
        #expect(try data.mismatches(reader: client.reader(key), attemptId: BoundsTests.winner).isEmpty)
    }
}
