import SluiceCore
import SluiceWorker
import Testing

/// The worker's lifecycle as a value: registration, heartbeats, re-registration, deletes, draining and refusals,
/// without sockets or sleeps.
@Suite struct WorkerStateTests {
    static let first = ShuffleKey(applicationId: "app", shuffleId: 1)
    static let second = ShuffleKey(applicationId: "app", shuffleId: 2)

    func registered() -> WorkerState {
        var state = WorkerState(retryIntervalMs: 2_000)
        _ = state.registrationAccepted(heartbeatIntervalMs: 10_000)
        return state
    }

    @Test func registersFirstThenHeartbeatsAtTheMastersInterval() {
        var state = WorkerState(retryIntervalMs: 2_000)
        #expect(state.nextRound == .register)
        #expect(state.registrationAccepted(heartbeatIntervalMs: 500) == .wait(milliseconds: 500))
        #expect(state.nextRound == .heartbeat)
        #expect(
            state.heartbeatAnswered(WorkerHeartbeatResponse(resync: false, shufflesToDelete: []))
                == [.wait(milliseconds: 500)])
        // An absurdly short interval from the master is raised.
        _ = state.registrationAccepted(heartbeatIntervalMs: 0)
        #expect(state.heartbeatIntervalMs == WorkerState.heartbeatIntervalMinMs)
    }

    @Test func unknownWorkerOrResyncMeansRegisterAgain() {
        var restarted = registered()
        let unknown = WorkerHeartbeatResponse(head: ResponseHead(.unknownWorker, "register again"))
        #expect(restarted.heartbeatAnswered(unknown) == [.register])
        #expect(restarted.nextRound == .register)
        var resync = registered()
        #expect(resync.heartbeatAnswered(WorkerHeartbeatResponse(resync: true, shufflesToDelete: [])) == [.register])
        #expect(!resync.isRegistered)
    }

    @Test func unreachableMasterOrNewConnectionDropsTheRegistration() {
        var state = registered()
        #expect(state.masterUnreachable() == [.wait(milliseconds: 2_000)])
        #expect(state.nextRound == .register)
        var reconnected = registered()
        reconnected.connectionOpened()
        #expect(reconnected.nextRound == .register)
        var refused = registered()
        #expect(
            refused.heartbeatAnswered(WorkerHeartbeatResponse(head: ResponseHead(.internalError, "boom")))
                == [.wait(milliseconds: 2_000)])
    }

    @Test func deletesWhatTheMasterNamesAndRefusesLatePushesLoggingOnce() {
        var state = registered()
        let reply = WorkerHeartbeatResponse(resync: false, shufflesToDelete: [Self.first])
        #expect(state.heartbeatAnswered(reply) == [.deleteShuffle(Self.first), .wait(milliseconds: 10_000)])
        #expect(state.isDeleted(Self.first) && !state.isDeleted(Self.second))
        #expect(state.refusePush(to: Self.first) == .deleted(firstRefusal: true))
        #expect(state.refusePush(to: Self.first) == .deleted(firstRefusal: false))
        #expect(state.refusePush(to: Self.first)?.status == .shuffleDeleted)
        #expect(state.refusePush(to: Self.second) == nil)
        // Deleted again (a later heartbeat names it again): still logged only once.
        _ = state.shuffleDeleted(Self.first)
        #expect(state.refusePush(to: Self.first) == .deleted(firstRefusal: false))
    }

    @Test func drainingRefusesEveryPushAndAsksForAnImmediateHeartbeatOnce() {
        var state = registered()
        #expect(state.beginDraining() == [.heartbeatNow])
        #expect(state.beginDraining() == [], "a second SIGTERM sends nothing more")
        #expect(state.isDraining)
        #expect(state.refusePush(to: Self.second) == .draining)
        #expect(state.refusePush(to: Self.second)?.status == .shuttingDown)
    }

    @Test func theRecordOfDeletedShufflesIsBounded() {
        var state = WorkerState(retryIntervalMs: 100, deletedShufflesMax: 3)
        for id in UInt32(0)..<3 { _ = state.shuffleDeleted(ShuffleKey(applicationId: "app", shuffleId: id)) }
        #expect(state.isDeleted(ShuffleKey(applicationId: "app", shuffleId: 0)))
        _ = state.shuffleDeleted(ShuffleKey(applicationId: "app", shuffleId: 3))
        #expect(!state.isDeleted(ShuffleKey(applicationId: "app", shuffleId: 0)), "started over at the bound")
        #expect(state.isDeleted(ShuffleKey(applicationId: "app", shuffleId: 3)))
    }

    @Test func decommissioningByTheMasterOrLocallyDrainsUntilLifted() {
        var state = registered()
        let decommissioned = WorkerHeartbeatResponse(decommissioned: true)
        #expect(state.heartbeatAnswered(decommissioned) == [.heartbeatNow, .wait(milliseconds: 10_000)])
        #expect(state.isDraining && state.refusePush(to: Self.first) == .draining)
        #expect(state.heartbeatAnswered(decommissioned) == [.wait(milliseconds: 10_000)], "reported once")
        // A local decommission is independent of the master's: lifting one leaves the other.
        #expect(state.setLocallyDecommissioned(true) == [])
        #expect(state.heartbeatAnswered(WorkerHeartbeatResponse()) == [.wait(milliseconds: 10_000)])
        #expect(state.isDraining)
        #expect(state.setLocallyDecommissioned(false) == [.heartbeatNow])
        #expect(!state.isDraining && state.refusePush(to: Self.first) == nil)
        // A shutdown drain is for good: recommissioning does not undo it.
        _ = state.setLocallyDecommissioned(true)
        _ = state.beginDraining()
        #expect(state.setLocallyDecommissioned(false) == [])
        #expect(state.isDraining && state.isShuttingDown)
    }
}
