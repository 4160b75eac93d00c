import SluiceCore
import Testing

@testable import SluiceMaster

/// Every bound on what peers make the master hold: crossing one gets a clear refusal, and everything else keeps being
/// served.
@Suite struct MasterLimitTests {
    static let limits = MasterLimits(
        maxPartitionsPerShuffle: 100, maxMappersPerShuffle: 50, maxApplications: 2, maxShufflesPerApplication: 2,
        maxWorkers: 3)
    static let settings = MasterSettings(
        workerHeartbeatIntervalMs: 100, workerHeartbeatTimeoutMs: 1_000, applicationTimeoutMs: 5_000,
        deletedShuffleRetentionMs: 10_000, limits: limits)

    func state(workers: [String] = ["a", "b"]) -> MasterState {
        var state = MasterState(settings: Self.settings)
        for id in workers { _ = state.registerWorker(MasterStateTests.worker(id), nowMs: 0) }
        return state
    }

    func register(
        _ state: inout MasterState, _ app: String, _ shuffleId: UInt32 = 0, partitions: UInt32 = 10,
        mappers: UInt32 = 5
    ) -> ResponseHead {
        state.registerShuffle(
            RegisterShuffleRequest(
                shuffle: ShuffleKey(applicationId: app, shuffleId: shuffleId), numMappers: mappers,
                numPartitions: partitions, replicate: true),
            nowMs: 1
        ).head
    }

    @Test func aShuffleOverThePartitionOrMapperLimitIsAnInvalidArgument() {
        var s = state()
        let tooWide = register(&s, "app", 0, partitions: 101)
        #expect(tooWide.status == .invalidArgument)
        #expect(tooWide.message.contains("master.maxPartitionsPerShuffle (100)"))
        let tooManyMaps = register(&s, "app", 1, mappers: 51)
        #expect(tooManyMaps.status == .invalidArgument)
        #expect(tooManyMaps.message.contains("master.maxMappersPerShuffle"))
        #expect(s.shuffleKeys.isEmpty && s.applications.isEmpty, "a refused registration leaves nothing behind")
        let atTheLimit = register(&s, "app", 2, partitions: 100, mappers: 50)
        #expect(atTheLimit.status == .ok)
        #expect(
            s.locations(GetLocationsRequest(shuffle: ShuffleKey(applicationId: "app", shuffleId: 2))).table
                .entries.count == 100)
    }

    @Test func aNewApplicationBeyondTheLimitIsRefusedUntilOneEnds() {
        var s = state()
        #expect(register(&s, "one").status == .ok)
        #expect(s.applicationHeartbeat("two", nowMs: 1).head.status == .ok)
        let third = register(&s, "three")
        #expect(third.status == .limitExceeded)
        #expect(third.message.contains("master.maxApplications (2)"))
        #expect(s.applicationHeartbeat("three", nowMs: 1).head.status == .limitExceeded)
        #expect(register(&s, "two").status == .ok, "a known application goes on registering")
        #expect(s.applicationHeartbeat("one", nowMs: 2).head.status == .ok)
        s.unregisterApplication("one", nowMs: 3)
        #expect(register(&s, "three").status == .ok)
    }

    @Test func aNewShuffleBeyondTheApplicationsLimitIsRefusedUntilOneIsUnregistered() {
        var s = state()
        #expect(register(&s, "app", 0).status == .ok)
        #expect(register(&s, "app", 1).status == .ok)
        let third = register(&s, "app", 2)
        #expect(third.status == .limitExceeded)
        #expect(third.message.contains("master.maxShufflesPerApplication (2)"))
        #expect(register(&s, "app", 1).status == .ok, "registering a known shuffle again is idempotent")
        #expect(register(&s, "other", 0).status == .ok, "the limit is per application")
        s.unregisterShuffle(ShuffleKey(applicationId: "app", shuffleId: 0), nowMs: 2)
        #expect(register(&s, "app", 2).status == .ok)
        #expect(s.shuffleCounts == ["app": 2, "other": 1])
    }

    @Test func aNewWorkerBeyondTheLimitReplacesALostOneOrIsRefused() {
        var s = state(workers: ["a", "b", "c"])
        let refused = s.registerWorker(MasterStateTests.worker("d"), nowMs: 10)
        #expect(refused.head.status == .limitExceeded)
        #expect(refused.head.message.contains("master.maxWorkers (3)"))
        #expect(s.workers["d"] == nil)
        #expect(s.registerWorker(MasterStateTests.worker("a"), nowMs: 10).head.status == .ok, "known ones re-register")
        // b and c fall silent; a heartbeats. The new worker takes the place of the longest-lost one.
        _ = s.workerHeartbeat(WorkerHeartbeatRequest(workerId: "a", freeBytes: 1, shuffles: []), nowMs: 900)
        _ = s.workerHeartbeat(WorkerHeartbeatRequest(workerId: "c", freeBytes: 1, shuffles: []), nowMs: 500)
        _ = s.tick(nowMs: 1_600)
        #expect(s.registerWorker(MasterStateTests.worker("d"), nowMs: 1_600).head.status == .ok)
        #expect(Set(s.workers.keys) == ["a", "c", "d"])
        #expect(register(&s, "app").status == .ok)
    }

    @Test func aReviveOfAPartitionOutsideTheShuffleIsAnInvalidArgument() {
        var s = state()
        #expect(register(&s, "app", partitions: 10).status == .ok)
        let outside = s.revive(
            ReviveRequest(
                shuffle: ShuffleKey(applicationId: "app", shuffleId: 0), partitionId: 10, failedEpoch: 0,
                failedWorkerId: "a"), nowMs: 2)
        #expect(outside.head.status == .invalidArgument)
        let inside = s.revive(
            ReviveRequest(
                shuffle: ShuffleKey(applicationId: "app", shuffleId: 0), partitionId: 9, failedEpoch: 0,
                failedWorkerId: "a"), nowMs: 2)
        #expect(inside.head.status == .ok)
    }

    @Test func aRegistrationThatCommittedMeanwhileWins() {
        var s = state()
        let request = RegisterShuffleRequest(
            shuffle: ShuffleKey(applicationId: "app", shuffleId: 0), numMappers: 5, numPartitions: 10, replicate: true)
        guard case .place(let candidates) = s.admitShuffle(request, nowMs: 1) else {
            Issue.record("a new shuffle is placed")
            return
        }
        let first = s.registerShuffle(request, nowMs: 1)
        let late = s.commitShuffle(request, MasterState.place(request, on: candidates), nowMs: 2)
        #expect(first.head.status == .ok && late == first)
        guard case .answered(let known) = s.admitShuffle(request, nowMs: 3) else {
            Issue.record("a known shuffle is answered at once")
            return
        }
        #expect(known == first)
    }

    @Test func aPlacementOnAForgottenWorkerIsMadeAgain() {
        var s = state(workers: ["a", "b", "c"])
        let request = RegisterShuffleRequest(
            shuffle: ShuffleKey(applicationId: "app", shuffleId: 0), numMappers: 5, numPartitions: 10, replicate: true)
        guard case .place(let candidates) = s.admitShuffle(request, nowMs: 1) else {
            Issue.record("a new shuffle is placed")
            return
        }
        // Meanwhile c is lost and replaced by d.
        _ = s.workerHeartbeat(WorkerHeartbeatRequest(workerId: "a", freeBytes: 1, shuffles: []), nowMs: 1_500)
        _ = s.workerHeartbeat(WorkerHeartbeatRequest(workerId: "b", freeBytes: 1, shuffles: []), nowMs: 1_500)
        _ = s.tick(nowMs: 1_600)
        _ = s.registerWorker(MasterStateTests.worker("d"), nowMs: 1_600)
        let response = s.commitShuffle(request, MasterState.place(request, on: candidates), nowMs: 1_600)
        #expect(response.table.entries.count == 10)
        #expect(Set(response.table.workers.map(\.workerId)).isSubset(of: ["a", "b", "d"]))
    }
}

/// A worker's registration report in pages: nothing is placed on it until the last page, pages are idempotent.
@Suite struct PagedRegistrationTests {
    static let key = ShuffleKey(applicationId: "app", shuffleId: 1)

    static func held(_ partitions: Range<UInt32>) -> [HeldPartition] {
        partitions.map { HeldPartition(shuffle: key, partitionId: $0, epoch: 0, role: .primary, bytes: 10) }
    }

    @Test func aPagedWorkerGetsNoSlotsUntilItsLastPageAndPagesAreIdempotent() {
        var s = MasterState(settings: MasterLimitTests.settings)
        var first = MasterStateTests.worker("a")
        first.held = Self.held(0..<3)
        first.morePages = true
        #expect(s.registerWorker(first, nowMs: 0).head.status == .ok)
        #expect(s.slotCandidates.isEmpty, "no slots before the last page")
        let beat = s.workerHeartbeat(WorkerHeartbeatRequest(workerId: "a", freeBytes: 1, shuffles: []), nowMs: 1)
        #expect(beat.head.status == .unknownWorker, "a heartbeat before the last page means pages were lost")
        let middle = ReportHeldPartitionsRequest(workerId: "a", last: false, held: Self.held(3..<6))
        #expect(s.reportHeldPartitions(middle, nowMs: 2).head.status == .ok)
        #expect(s.reportHeldPartitions(middle, nowMs: 3).head.status == .ok)
        let last = ReportHeldPartitionsRequest(workerId: "a", last: true, held: Self.held(6..<8))
        #expect(s.reportHeldPartitions(last, nowMs: 4).head.status == .ok)
        #expect(s.slotCandidates.map(\.address.workerId) == ["a"])
        let table = s.locations(GetLocationsRequest(shuffle: Self.key)).table
        #expect(table.locations.map(\.partitionId) == Array(0..<8))
        #expect(table.entries.allSatisfy { $0.primaryIndex == 0 })
        let unknown = ReportHeldPartitionsRequest(workerId: "nobody", last: true, held: Self.held(0..<1))
        #expect(s.reportHeldPartitions(unknown, nowMs: 5).head.status == .unknownWorker)
    }
}
