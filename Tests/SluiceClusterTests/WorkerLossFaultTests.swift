import SluiceCompression
import SluiceCore
import SluiceNet
import SluiceTestKit
import Testing

@testable import SluiceClient

/// One test per fault behind "a worker lost in the middle of a replicated push": stale routing in the writer, a
/// worker that replicated to itself, a reader that trusted a short copy; and the faults seen on the way: silent
/// refusals of pushes to deleted shuffles, and workers that stayed placement targets after they went away.
@Suite(.serialized) struct WorkerLossFaultTests {
    @Test func batchQueuedBeforeAReviveIsSentToTheNewPrimary() throws {
        let cluster = try MiniCluster(workers: 3)
        defer { cluster.shutdown() }
        let client = cluster.client(codec: .none)
        defer { client.close() }
        let key = ShuffleKey(applicationId: "app-revive-route", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 1, numPartitions: 12)
        // A partition whose revive (blaming its replica) makes the old primary the new replica: the case where a
        // stale route had the old primary replicate to itself.
        var chosen: (old: PartitionLocation, new: PartitionLocation)?
        for old in handle.locations.locations {
            guard let primary = old.primary, let replica = old.replica else { continue }
            let new = try client.master.revive(
                key, partitionId: old.partitionId, failedEpoch: old.epoch,
                failedWorkerId: replica.workerId)
            if new.replica?.workerId == primary.workerId {
                chosen = (old, new)
                break
            }
        }
        let (old, new) = try #require(chosen, "no revive made an old primary the new replica")
        let oldPrimary = try #require(old.primary)
        let newPrimary = try #require(new.primary)
        let writer = client.writer(handle, mapIndex: 0, attemptId: 1)
        // One push buffer's worth: the write cuts a batch, queued (below the merged-push size) for the old primary.
        let bytes = [UInt8](repeating: 7, count: ClientConfig(masterEndpoint: "").pushBufferBytes) + [1, 2, 3]
        try writer.write(partitionId: old.partitionId, bytes: bytes)
        writer.setLocation(new)  // the revive lands before the queued batch is sent
        _ = try writer.close()

        let onNewPrimary = try openStream(newPrimary, key, old.partitionId, new.epoch, .primary)
        #expect(
            onNewPrimary.head.status == .ok && onNewPrimary.storedBytes > 0,
            "the new epoch's primary must hold the batch: \(onNewPrimary.head)")
        let strayPrimary = try openStream(oldPrimary, key, old.partitionId, new.epoch, .primary)
        #expect(
            strayPrimary.head.status == .unknownPartition, "the old primary must hold no primary copy of the new epoch")
        let epochs = try client.master.allLocations(key).filter { $0.partitionId == old.partitionId }.map(\.epoch)
        #expect(epochs.max() == new.epoch, "a batch sent where it belongs needs no further revive: epochs \(epochs)")
        var got: [UInt8] = []
        try client.reader(key).read(partitionId: old.partitionId, winners: [0: 1], nonEmptyMaps: [0]) { _, raw in
            got += raw
        }
        #expect(got == bytes)
    }

    @Test func primaryPushNamingTheReceivingWorkerAsReplicaIsRefused() throws {
        let logs = CapturedLogs()
        let cluster = try MiniCluster(workers: 2, logs: logs)
        defer { cluster.shutdown() }
        let client = cluster.client(codec: .none)
        defer { client.close() }
        let key = ShuffleKey(applicationId: "app-self-replica", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 1, numPartitions: 1)
        let location = try #require(handle.locations.locations.first)
        let primary = try #require(location.primary)
        let batch = try Self.batch(sequence: 0, isLast: true)
        let status = try push(
            batch, to: primary, key: key, partitionId: 0, epoch: location.epoch, role: .primary,
            replica: primary)
        #expect(status == .invalidArgument)
        for role in [PartitionRole.primary, .replica] {
            #expect(
                try openStream(primary, key, 0, location.epoch, role).head.status == .unknownPartition,
                "nothing may be stored for a refused entry (\(role))")
        }
        #expect(logs.all.contains { $0.message == "push names this worker as its own replica" })
        // The same batch routed correctly is stored on both copies.
        #expect(
            try push(
                batch, to: primary, key: key, partitionId: 0, epoch: location.epoch, role: .primary,
                replica: location.replica) == .ok)
    }

    @Test func shortPrimaryCopyWithWholeReplicaReadsTheReplica() throws {
        let cluster = try MiniCluster(workers: 2)
        defer { cluster.shutdown() }
        let client = cluster.client(codec: .none)
        defer { client.close() }
        let key = ShuffleKey(applicationId: "app-short-primary", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 1, numPartitions: 1)
        let location = try #require(handle.locations.locations.first)
        let primary = try #require(location.primary)
        let replica = try #require(location.replica)
        // Sequence 0 on both copies; sequence 1 (the last) only on the replica: the primary reads without error
        // and is short.
        #expect(
            try push(
                Self.batch(sequence: 0, isLast: false), to: primary, key: key, partitionId: 0,
                epoch: location.epoch, role: .primary, replica: replica) == .ok)
        #expect(
            try push(
                Self.batch(sequence: 1, isLast: true), to: replica, key: key, partitionId: 0,
                epoch: location.epoch, role: .replica, replica: nil) == .ok)
        let reader = client.reader(key)
        var sequences: [UInt32] = []
        try reader.read(partitionId: 0, winners: [0: 1], nonEmptyMaps: [0]) { header, _ in
            sequences.append(header.sequence)
        }
        #expect(sequences.sorted() == [0, 1], "each batch exactly once")
        #expect(reader.failovers == 1)
    }

    @Test func pushToADeletedShuffleIsRefusedWithItsOwnStatusAndOneLogLine() throws {
        let logs = CapturedLogs()
        let cluster = try MiniCluster(workers: 2, logs: logs)
        defer { cluster.shutdown() }
        let client = cluster.client(codec: .none)
        defer { client.close() }
        let key = ShuffleKey(applicationId: "app-deleted", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 1, numPartitions: 4)
        try client.master.unregisterShuffle(key)
        // Every partition's primary, not only partition 0's: the writer below pushes to partition 1.
        try waitUntil("workers learned of the deletion") {
            (UInt32(0)..<4).allSatisfy { partition in
                (try? pushRaw(Self.batch(sequence: 0, isLast: true), partitionId: partition, handle: handle))
                    == .shuffleDeleted
            }
        }
        #expect(try pushRaw(Self.batch(sequence: 0, isLast: true), partitionId: 0, handle: handle) == .shuffleDeleted)
        let writer = client.writer(handle, mapIndex: 0, attemptId: 1)
        try writer.write(partitionId: 1, bytes: [9])
        let error = #expect(throws: ClientError.self) { _ = try writer.close() }
        #expect(error?.status == .shuffleDeleted, "a writer stops at once, with the reason")
        let refusals = logs.all.filter { $0.message == "push to a deleted shuffle refused" }
        #expect(
            !refusals.isEmpty && refusals.count <= cluster.workers.count,
            "one line per worker and deleted shuffle, however many pushes: \(refusals.count)")
        #expect(
            refusals.allSatisfy {
                $0.metadata["application.id"] == key.applicationId && $0.metadata["shuffle.id"] == "\(key.shuffleId)"
            })
    }

    @Test func drainingWorkerTellsTheMasterAtOnce() throws {
        // Heartbeats every minute: only an immediate report can reach the master within the wait below.
        let cluster = try MiniCluster(workers: 2, heartbeatIntervalMs: 60_000)
        defer { cluster.shutdown() }
        let id = try #require(cluster.workers[0].address?.workerId)
        #expect(cluster.master.snapshot.workers[id]?.draining == false)
        cluster.workers[0].beginDraining()
        try waitUntil("the master saw the drain") { cluster.master.snapshot.workers[id]?.draining == true }
        let client = cluster.client()
        defer { client.close() }
        let handle = try client.registerShuffle(
            ShuffleKey(applicationId: "app-drain", shuffleId: 0), numMappers: 1,
            numPartitions: 20)
        #expect(handle.locations.locations.allSatisfy { $0.primary?.workerId != id && $0.replica?.workerId != id })
    }

    @Test func workerAClientCouldNotReachGetsNoNewPartitions() throws {
        let cluster = try MiniCluster(workers: 3, heartbeatIntervalMs: 60_000)
        defer { cluster.shutdown() }
        let client = cluster.client(codec: .none)
        defer { client.close() }
        let key = ShuffleKey(applicationId: "app-unreachable", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 1, numPartitions: 30)
        let dead = try #require(cluster.workers[2].address)
        cluster.stopWorker(2)
        // A writer whose pushes to the dead worker fail reports it through its revives.
        let writer = client.writer(handle, mapIndex: 0, attemptId: 1)
        for partition in 0..<UInt32(30) { try writer.write(partitionId: partition, bytes: [UInt8(partition)]) }
        _ = try writer.close()
        // Its heartbeat time-out (20 minutes here) has not passed, yet nothing new is placed there.
        #expect(cluster.master.snapshot.workers[dead.workerId]?.alive == true)
        let later = try client.registerShuffle(
            ShuffleKey(applicationId: "app-unreachable", shuffleId: 1),
            numMappers: 1, numPartitions: 30)
        #expect(
            later.locations.locations.allSatisfy {
                $0.primary?.workerId != dead.workerId && $0.replica?.workerId != dead.workerId
            })
    }

    static func batch(sequence: UInt32, isLast: Bool) throws -> Batch {
        let encoded = try BatchCodec.encode(
            raw: [UInt8(sequence), 1, 2][...], codec: .none, mapIndex: 0, attemptId: 1,
            sequence: sequence, isLast: isLast)
        return Batch(header: encoded.header, payload: encoded.stored[...])
    }
}

/// Sends one push of `batch` to `worker` as `role`, naming `replica`; returns the entry's status.
func push(
    _ batch: Batch, to worker: WorkerAddress, key: ShuffleKey, partitionId: UInt32, epoch: UInt32,
    role: PartitionRole, replica: WorkerAddress?
) throws -> StatusCode {
    let client = try FrameClient.connect(host: worker.host, port: Int(worker.port), role: .client, identity: "raw")
    defer { client.close() }
    let push = PushRequest(
        shuffle: key, role: role,
        entries: [PushEntry(partitionId: partitionId, epoch: epoch, replica: replica, batch: batch)])
    let reply = try PushResponse.decode(body: try client.call(type: push.frameType, body: push.encodedBody()).body)
    return reply.statuses(count: 1)[0]
}

/// Opens a stream of one partition file on `worker` (left for the connection's close to end).
func openStream(
    _ worker: WorkerAddress, _ key: ShuffleKey, _ partitionId: UInt32, _ epoch: UInt32,
    _ role: PartitionRole
) throws -> OpenStreamResponse {
    let client = try FrameClient.connect(host: worker.host, port: Int(worker.port), role: .client, identity: "probe")
    defer { client.close() }
    let request = OpenStreamRequest(shuffle: key, partitionId: partitionId, epoch: epoch, role: role)
    return try OpenStreamResponse.decode(body: try client.call(type: .openStream, body: request.encoded()).body)
}
