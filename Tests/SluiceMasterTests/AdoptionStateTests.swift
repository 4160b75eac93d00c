import SluiceConfig
import SluiceCore
import Testing

@testable import SluiceMaster

/// A worker lost for good has its shared folders adopted: the master orders a worker of the same shared directory
/// to adopt them, and points readers at it once it reports the files.
@Suite struct AdoptionStateTests {
    static let delayMs: UInt64 = 500
    static var settings: MasterSettings {
        var settings = MasterStateTests.settings
        settings.workerAdoptionDelayMs = delayMs
        return settings
    }

    static func worker(_ id: String, free: UInt64 = 1_000, directory: String? = "/fsx") -> RegisterWorkerRequest {
        var request = MasterStateTests.worker(id, free: free)
        request.sharedFolders = directory.map { [SharedFolder(directory: $0, folder: id)] } ?? []
        return request
    }

    func heartbeat(_ state: inout MasterState, _ id: String, nowMs: UInt64) -> WorkerHeartbeatResponse {
        let free = state.workers[id]?.freeBytes ?? 0
        return state.workerHeartbeat(WorkerHeartbeatRequest(workerId: id, freeBytes: free, shuffles: []), nowMs: nowMs)
    }

    @Test func aWorkerLostForGoodIsAdoptedByAWorkerOfTheSameDirectoryAndReadersAreSentThere() {
        var s = MasterState(settings: Self.settings)
        _ = s.registerWorker(Self.worker("lost"), nowMs: 0)
        _ = s.registerWorker(Self.worker("small", free: 10), nowMs: 0)
        _ = s.registerWorker(Self.worker("big", free: 5_000), nowMs: 0)
        _ = s.registerWorker(Self.worker("elsewhere", free: 9_000, directory: "/other"), nowMs: 0)
        _ = s.registerWorker(Self.worker("unshared", free: 9_000, directory: nil), nowMs: 0)
        let key = MasterStateTests.key
        let held = HeldPartition(shuffle: key, partitionId: 3, epoch: 0, role: .primary, bytes: 100)
        _ = s.registerWorker(
            RegisterWorkerRequest(
                address: WorkerAddress(workerId: "lost", host: "127.0.0.1", port: 1), capacityBytes: 1,
                freeBytes: 1, held: [held], sharedFolders: [SharedFolder(directory: "/fsx", folder: "lost")]),
            nowMs: 0)
        // The others keep beating; "lost" stops. Lost at its time-out, not yet for good.
        let lostAtMs = Self.settings.workerHeartbeatTimeoutMs
        for id in ["small", "big", "elsewhere", "unshared"] { _ = heartbeat(&s, id, nowMs: lostAtMs) }
        let lostEvents = s.tick(nowMs: lostAtMs)
        #expect(lostEvents == [.workerLost(workerId: "lost")])
        let early = s.tick(nowMs: lostAtMs + Self.delayMs - 1)
        #expect(early.isEmpty)
        for id in ["small", "big", "elsewhere", "unshared"] { _ = heartbeat(&s, id, nowMs: lostAtMs + Self.delayMs) }
        let events = s.tick(nowMs: lostAtMs + Self.delayMs)
        #expect(events == [.adoptionOrdered(lostWorkerId: "lost", adopterId: "big", path: "/fsx/lost")])
        let order = AdoptionOrder(lostWorkerId: "lost", folder: SharedFolder(directory: "/fsx", folder: "lost"))
        let toBig = heartbeat(&s, "big", nowMs: lostAtMs + Self.delayMs)
        #expect(toBig.adoptions == [order])
        let toSmall = heartbeat(&s, "small", nowMs: lostAtMs + Self.delayMs)
        #expect(toSmall.adoptions.isEmpty)
        let again = s.tick(nowMs: lostAtMs + Self.delayMs + 1)
        #expect(again.isEmpty, "ordered once")

        let report = AdoptPartitionsRequest(
            workerId: "big", lostWorkerId: "lost", folderPath: "/fsx/lost", last: true, held: [held])
        let answer = s.adoptPartitions(report, nowMs: lostAtMs + Self.delayMs)
        #expect(answer.head.status == .ok)
        let locations = s.locations(GetLocationsRequest(shuffle: key)).table.locations
        #expect(locations.map { $0.primary?.workerId } == ["big"])
        let afterDone = heartbeat(&s, "big", nowMs: lostAtMs + Self.delayMs)
        #expect(afterDone.adoptions.isEmpty, "done")
        // A restarted adopter holds only its own folder: registering again, it is asked to adopt again.
        _ = s.registerWorker(Self.worker("big", free: 5_000), nowMs: lostAtMs + Self.delayMs + 1)
        let afterRestart = heartbeat(&s, "big", nowMs: lostAtMs + Self.delayMs + 1)
        #expect(afterRestart.adoptions == [order])
    }

    @Test func aDecommissionedWorkerIsAdoptedAsSoonAsItIsLostAndALostAdopterIsReplaced() {
        var s = MasterState(settings: Self.settings)
        for id in ["gone", "first", "second"] {
            _ = s.registerWorker(Self.worker(id, free: id == "first" ? 5_000 : 1_000), nowMs: 0)
        }
        let decommissioned = s.setDecommissioned("gone", true)
        #expect(decommissioned)
        let lostAtMs = Self.settings.workerHeartbeatTimeoutMs
        for id in ["first", "second"] { _ = heartbeat(&s, id, nowMs: lostAtMs) }
        let events = s.tick(nowMs: lostAtMs)
        #expect(events.contains(.adoptionOrdered(lostWorkerId: "gone", adopterId: "first", path: "/fsx/gone")))
        // "first" dies before reporting: "second" gets the order.
        _ = heartbeat(&s, "second", nowMs: 2 * lostAtMs)
        let later = s.tick(nowMs: 2 * lostAtMs)
        #expect(later.contains(.adoptionOrdered(lostWorkerId: "gone", adopterId: "second", path: "/fsx/gone")))
        let toSecond = heartbeat(&s, "second", nowMs: 2 * lostAtMs)
        #expect(toSecond.adoptions.map(\.lostWorkerId) == ["gone"])
    }
}
