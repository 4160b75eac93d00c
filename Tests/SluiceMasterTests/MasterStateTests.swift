import SluiceConfig
import SluiceCore
import Testing

@testable import SluiceMaster

@Suite struct MasterStateTests {
    static let settings = MasterSettings(
        workerHeartbeatIntervalMs: 100, workerHeartbeatTimeoutMs: 1_000,
        applicationTimeoutMs: 5_000, deletedShuffleRetentionMs: 10_000,
        limits: MasterLimits(
            maxPartitionsPerShuffle: 10_000, maxMappersPerShuffle: 10_000, maxApplications: 100,
            maxShufflesPerApplication: 100, maxWorkers: 100))
    static let key = ShuffleKey(applicationId: "app", shuffleId: 1)

    static func worker(_ id: String, free: UInt64 = 1_000) -> RegisterWorkerRequest {
        RegisterWorkerRequest(
            address: WorkerAddress(workerId: id, host: "127.0.0.1", port: 1), capacityBytes: free,
            freeBytes: free, held: [])
    }

    func state(workers: [String], nowMs: UInt64 = 0) -> MasterState {
        var state = MasterState(settings: Self.settings)
        for id in workers { _ = state.registerWorker(Self.worker(id), nowMs: nowMs) }
        return state
    }

    func register(
        _ state: inout MasterState, partitions: UInt32 = 300, replicate: Bool = true,
        nowMs: UInt64 = 0
    ) -> [PartitionLocation] {
        state.registerShuffle(
            RegisterShuffleRequest(
                shuffle: Self.key, numMappers: 40, numPartitions: partitions,
                replicate: replicate), nowMs: nowMs
        ).table.locations
    }

    @Test func primaryAndReplicaAreOnDistinctWorkersAndSpreadEvenly() {
        var s = state(workers: ["a", "b", "c"])
        let locations = register(&s)
        #expect(locations.count == 300)
        #expect(locations.allSatisfy { $0.primary != nil && $0.replica != nil && $0.primary != $0.replica })
        let primaries = Dictionary(grouping: locations, by: { $0.primary?.workerId ?? "" }).mapValues(\.count)
        let replicas = Dictionary(grouping: locations, by: { $0.replica?.workerId ?? "" }).mapValues(\.count)
        #expect(primaries.count == 3 && primaries.values.allSatisfy { $0 >= 97 && $0 <= 103 }, "primaries \(primaries)")
        #expect(replicas.values.allSatisfy { $0 >= 80 && $0 <= 120 }, "replicas \(replicas)")
    }

    @Test func placementFollowsFreeSpace() {
        var s = MasterState(settings: Self.settings)
        _ = s.registerWorker(Self.worker("big", free: 3_000), nowMs: 0)
        _ = s.registerWorker(Self.worker("small", free: 1_000), nowMs: 0)
        let primaries = Dictionary(
            grouping: register(&s, partitions: 400, replicate: false),
            by: { $0.primary?.workerId ?? "" }
        ).mapValues(\.count)
        #expect(primaries["big", default: 0] >= 290 && primaries["big", default: 0] <= 310, "\(primaries)")
    }

    /// Two workers with the same total room: the one whose NVMe tier has room takes the partitions while the other
    /// has room only on EBS; once both report NVMe room, NVMe free bytes set the spread.
    @Test func placementFollowsTheFastestTierWithRoom() {
        var s = MasterState(settings: Self.settings)
        _ = s.registerWorker(Self.worker("nvme-full", free: 2_000), nowMs: 0)
        _ = s.registerWorker(Self.worker("nvme-room", free: 2_000), nowMs: 0)
        func beat(_ id: String, nvmeFree: UInt64, ebsFree: UInt64) {
            let tiers = [
                TierSpace(kind: "nvme", freeBytes: nvmeFree, capacityBytes: 1_000),
                TierSpace(kind: "ebs", freeBytes: ebsFree, capacityBytes: 2_000),
            ]
            _ = s.workerHeartbeat(
                WorkerHeartbeatRequest(workerId: id, freeBytes: nvmeFree + ebsFree, shuffles: [], tiers: tiers),
                nowMs: 1)
        }
        beat("nvme-full", nvmeFree: 0, ebsFree: 2_000)
        beat("nvme-room", nvmeFree: 500, ebsFree: 1_500)
        let primaries = Dictionary(
            grouping: register(&s, partitions: 404, replicate: false), by: { $0.primary?.workerId ?? "" }
        ).mapValues(\.count)
        // Weights 100 against 1.
        #expect(primaries["nvme-room", default: 0] == 400, "\(primaries)")
        beat("nvme-full", nvmeFree: 1_000, ebsFree: 1_000)
        var other = s
        let spread = Dictionary(
            grouping: other.registerShuffle(
                RegisterShuffleRequest(
                    shuffle: ShuffleKey(applicationId: "app", shuffleId: 2), numMappers: 40, numPartitions: 300,
                    replicate: false), nowMs: 2
            ).table.locations, by: { $0.primary?.workerId ?? "" }
        ).mapValues(\.count)
        #expect(spread["nvme-full", default: 0] == 200, "NVMe free 1000 against 500: \(spread)")
    }

    @Test func oneWorkerMeansNoReplicaAndNoWorkersIsAnError() {
        var one = state(workers: ["a"])
        #expect(register(&one).allSatisfy { $0.replica == nil && $0.primary?.workerId == "a" })
        var none = MasterState(settings: Self.settings)
        let reply = none.registerShuffle(
            RegisterShuffleRequest(
                shuffle: Self.key, numMappers: 1, numPartitions: 1,
                replicate: true), nowMs: 0)
        #expect(reply.head.status == .noWorkers)
    }

    @Test func workerNamedFailedInAReviveGetsNoSlotsUntilItHeartbeats() {
        var s = state(workers: ["a", "b", "c"])
        _ = register(&s)
        _ = s.revive(ReviveRequest(shuffle: Self.key, partitionId: 0, failedEpoch: 0, failedWorkerId: "c"), nowMs: 1)
        #expect(Set(s.slotCandidates.map(\.address.workerId)) == ["a", "b"])
        let other = ShuffleKey(applicationId: "app", shuffleId: 2)
        let placed = s.registerShuffle(
            RegisterShuffleRequest(
                shuffle: other, numMappers: 1, numPartitions: 30,
                replicate: true), nowMs: 2
        ).table.locations
        #expect(placed.count == 30)
        #expect(placed.allSatisfy { $0.primary?.workerId != "c" && $0.replica?.workerId != "c" })
        // Revives of other partitions avoid it too, not only the one that named it.
        let revived = s.revive(
            ReviveRequest(shuffle: Self.key, partitionId: 1, failedEpoch: 0, failedWorkerId: ""),
            nowMs: 3
        ).table.locations
        #expect(revived.allSatisfy { $0.primary?.workerId != "c" && $0.replica?.workerId != "c" })
        // A heartbeat proves it alive again.
        _ = s.workerHeartbeat(WorkerHeartbeatRequest(workerId: "c", freeBytes: 1_000, shuffles: []), nowMs: 4)
        #expect(Set(s.slotCandidates.map(\.address.workerId)) == ["a", "b", "c"])
    }

    @Test func reportsAgainstEveryWorkerAreIgnoredRatherThanPlacingNowhere() {
        var s = state(workers: ["a", "b"])
        _ = register(&s)
        for failed in ["a", "b"] {
            _ = s.revive(
                ReviveRequest(shuffle: Self.key, partitionId: 0, failedEpoch: 0, failedWorkerId: failed), nowMs: 1)
        }
        #expect(Set(s.slotCandidates.map(\.address.workerId)) == ["a", "b"])
    }

    @Test func registerShuffleIsIdempotent() {
        var s = state(workers: ["a", "b"])
        let first = register(&s)
        _ = s.registerWorker(Self.worker("c"), nowMs: 1)
        #expect(register(&s) == first)
    }

    @Test func silentWorkerIsLostGetsNoSlotsAndMustRegisterAgain() {
        var s = state(workers: ["a", "b"])
        _ = s.workerHeartbeat(WorkerHeartbeatRequest(workerId: "a", freeBytes: 1_000, shuffles: []), nowMs: 900)
        #expect(s.tick(nowMs: 1_000) == [.workerLost(workerId: "b")])
        #expect(s.tick(nowMs: 1_001) == [])
        #expect(register(&s, nowMs: 1_001).allSatisfy { $0.primary?.workerId == "a" && $0.replica == nil })
        let reply = s.workerHeartbeat(WorkerHeartbeatRequest(workerId: "b", freeBytes: 1, shuffles: []), nowMs: 1_002)
        #expect(reply.head.status == .unknownWorker)
        _ = s.registerWorker(Self.worker("b"), nowMs: 1_003)
        #expect(s.workers["b"]?.alive == true)
    }

    @Test func drainingWorkerGetsNoNewSlots() {
        var s = state(workers: ["a", "b"])
        _ = s.workerHeartbeat(
            WorkerHeartbeatRequest(workerId: "b", freeBytes: 1_000, draining: true, shuffles: []),
            nowMs: 1)
        #expect(register(&s).allSatisfy { $0.primary?.workerId == "a" })
    }

    @Test func reviveCreatesOneNewEpochAwayFromTheFailedWorker() {
        var s = state(workers: ["a", "b", "c"])
        let original = register(&s)[7]
        let failed = original.primary?.workerId ?? ""
        let request = ReviveRequest(shuffle: Self.key, partitionId: 7, failedEpoch: 0, failedWorkerId: failed)
        let revived = s.revive(request, nowMs: 5).table.locations
        #expect(revived.count == 1)
        #expect(revived.first?.epoch == 1)
        #expect(revived.first?.primary?.workerId != failed)
        #expect(revived.first?.replica?.workerId != failed)
        // A second mapper reporting the same failure gets the same new epoch, not another one.
        #expect(s.revive(request, nowMs: 6).table.locations == revived)
        let all = s.locations(GetLocationsRequest(shuffle: Self.key)).table.locations.filter { $0.partitionId == 7 }
        #expect(all.map(\.epoch) == [0, 1])
    }

    @Test func unregisteredShuffleIsDeletedOnWorkersButUnknownDataIsNot() {
        var s = state(workers: ["a", "b"])
        _ = register(&s)
        let other = ShuffleKey(applicationId: "app", shuffleId: 2)
        s.unregisterShuffle(Self.key, nowMs: 10)
        let reply = s.workerHeartbeat(
            WorkerHeartbeatRequest(workerId: "a", freeBytes: 1, shuffles: [Self.key, other]),
            nowMs: 11)
        #expect(reply.shufflesToDelete == [Self.key])
        #expect(reply.resync, "a shuffle the master never heard of must trigger a resync, not a delete")
        #expect(s.locations(GetLocationsRequest(shuffle: Self.key)).head.status == .unknownShuffle)
    }

    @Test func liveApplicationIsKeptAndSilentOneExpires() {
        var s = state(workers: ["a", "b"])
        _ = register(&s)
        let live = ShuffleKey(applicationId: "live", shuffleId: 0)
        _ = s.registerShuffle(
            RegisterShuffleRequest(shuffle: live, numMappers: 1, numPartitions: 1, replicate: true),
            nowMs: 0)
        for now in stride(from: UInt64(1_000), through: 9_000, by: 1_000) {
            s.applicationHeartbeat("live", nowMs: now)
            for id in ["a", "b"] {
                _ = s.workerHeartbeat(WorkerHeartbeatRequest(workerId: id, freeBytes: 1, shuffles: []), nowMs: now)
            }
            let events = s.tick(nowMs: now)
            #expect(!events.contains(.applicationExpired(applicationId: "live", shuffleCount: 1)))
        }
        #expect(s.applications["app"] == nil)
        #expect(s.applications["live"] != nil)
        let reply = s.workerHeartbeat(
            WorkerHeartbeatRequest(workerId: "a", freeBytes: 1, shuffles: [Self.key, live]),
            nowMs: 9_001)
        #expect(reply.shufflesToDelete == [Self.key])
    }

    @Test func restartedMasterRebuildsLocationsFromWorkerReports() {
        var before = state(workers: ["a", "b"])
        _ = register(&before, partitions: 20)
        _ = before.revive(
            ReviveRequest(shuffle: Self.key, partitionId: 3, failedEpoch: 0, failedWorkerId: "a"), nowMs: 1)
        let original = before.locations(GetLocationsRequest(shuffle: Self.key)).table.locations
        // Every worker reports the files it holds, as a worker does on registration.
        var held: [String: [HeldPartition]] = [:]
        for location in original {
            for copy in location.copies {
                held[copy.worker.workerId, default: []].append(
                    HeldPartition(
                        shuffle: Self.key, partitionId: location.partitionId, epoch: location.epoch,
                        role: copy.role, bytes: 10))
            }
        }
        var after = MasterState(settings: Self.settings)
        let heartbeat = after.workerHeartbeat(
            WorkerHeartbeatRequest(workerId: "a", freeBytes: 1, shuffles: [Self.key]),
            nowMs: 100)
        #expect(heartbeat.head.status == .unknownWorker)
        for id in ["b", "a"] {
            var request = Self.worker(id)
            request.held = held[id] ?? []
            _ = after.registerWorker(request, nowMs: 100)
        }
        #expect(after.locations(GetLocationsRequest(shuffle: Self.key)).table.locations == original)
        #expect(after.applications["app"] == 100)
        // The driver re-registering the shuffle keeps every rebuilt epoch.
        _ = after.registerShuffle(
            RegisterShuffleRequest(
                shuffle: Self.key, numMappers: 40, numPartitions: 20,
                replicate: true), nowMs: 101)
        #expect(after.locations(GetLocationsRequest(shuffle: Self.key)).table.locations == original)
    }
}

/// The master a deployed process runs and the one tests and the benchmark embed are built the same way: every value
/// from the config registry.
@Suite struct MasterOptionsTests {
    @Test func optionsComeFromTheConfigRegistry() throws {
        let options = MasterServer.Options(try MasterConfig.load())
        #expect(options.settings.workerHeartbeatTimeoutMs == UInt64(MasterKeys.workerHeartbeatTimeout.defaultValue))
        #expect(options.settings.workerHeartbeatTimeoutMs == 30_000)
        #expect(options.settings.deletedShuffleRetentionMs == 600_000)
        #expect(options.settings.workerHeartbeatIntervalMs == 10_000)
        #expect(options.maxInFlightRequestsPerConnection == 64)
        #expect(
            options.tickIntervalMs == MasterServer.Options.maxTickIntervalMs, "10 s check interval, ticked each second")
        let overridden = MasterServer.Options(
            try MasterConfig.load(overrides: ["master.deletedShuffleRetention": "1m"]))
        #expect(overridden.settings.deletedShuffleRetentionMs == 60_000)
    }
}

extension MasterStateTests {
    @Test func aDecommissionedWorkerGetsNoPartitionsAndIsToldToDrain() {
        var s = state(workers: ["a", "b", "c"])
        let known = s.setDecommissioned("b", true)
        let unknown = s.setDecommissioned("nobody", true)
        #expect(known && !unknown, "an unknown worker is refused")
        #expect(register(&s).allSatisfy { $0.primary?.workerId != "b" && $0.replica?.workerId != "b" })
        let told = s.workerHeartbeat(
            WorkerHeartbeatRequest(workerId: "b", freeBytes: 1_000, shuffles: []), nowMs: 1)
        #expect(told.decommissioned)
        // It stays decommissioned across a re-registration, until recommissioned.
        _ = s.registerWorker(Self.worker("b"), nowMs: 2)
        #expect(s.slotCandidates.map(\.address.workerId).sorted() == ["a", "c"])
        let lifted = s.setDecommissioned("b", false)
        #expect(lifted)
        #expect(s.slotCandidates.map(\.address.workerId).sorted() == ["a", "b", "c"])
        let heartbeat = s.workerHeartbeat(
            WorkerHeartbeatRequest(workerId: "b", freeBytes: 1_000, shuffles: []), nowMs: 3)
        #expect(!heartbeat.decommissioned)
    }
}
