import Logging
import SluiceSystem
import SluiceTestKit
import Testing

/// `ServiceGroup`: start order, reverse stop order, roll-back of a failed start, and the ways a drain ends
/// (drained, grace period over, second request, no drain at all). Requests come from the test, not from signals;
/// waits are on conditions, never sleeps.
@Suite struct ServiceGroupTests {
    /// The longest a test waits for something that should happen at once.
    static let waitMs = 10_000
    /// A grace period no passing test reaches.
    static let longGraceMs = 60_000

    @Test func startsInOrderAndStopsInReverse() throws {
        let journal = Journal()
        let group = ServiceGroup(["a", "b", "c"].map { PlainService($0, journal) }, logger: quietLogger)
        try group.start()
        #expect(journal.all == ["start a", "start b", "start c"])

        let requests = ShutdownRequests()
        requests.request(.immediate)
        group.run(until: requests, gracePeriodMs: Self.longGraceMs)
        #expect(journal.all == ["start a", "start b", "start c", "stop c", "stop b", "stop a"])
    }

    @Test func aFailedStartStopsTheStartedOnesInReverseAndRethrows() {
        let journal = Journal()
        let group = ServiceGroup(
            [
                PlainService("a", journal), PlainService("b", journal),
                DrainingService("c", journal, refusesToStart: true), PlainService("d", journal),
            ],
            logger: quietLogger)
        #expect(throws: StartRefused(name: "c")) { try group.start() }
        #expect(journal.all == ["start a", "start b", "start c", "stop b", "stop a"])
        group.stop()
        #expect(journal.all.count == 5, "a second stop found services to stop: \(journal.all)")
    }

    @Test func aGracefulRequestWaitsUntilEveryServiceDrained() throws {
        let journal = Journal()
        let logs = CapturedLogs()
        let slow = DrainingService("slow", journal)
        let group = ServiceGroup(
            [PlainService("plain", journal), slow],
            logger: Logger(label: "test", factory: { _ in logs.handler() }))
        try group.start()
        let requests = ShutdownRequests()
        defer { requests.request(.immediate) }  // ends a run a failed expectation left waiting
        requests.request(.graceful)
        let run = try BackgroundRun(group, until: requests, gracePeriodMs: Self.longGraceMs)

        // Checked, found busy, waited, checked again: the group is polling, and must not have stopped anything.
        try #require(journal.waitUntil(timeoutMs: Self.waitMs) { slow.drainChecks >= 2 })
        #expect(journal.all == ["start plain", "start slow", "drain slow"])
        slow.finishDraining()
        try #require(run.waitForEnd(timeoutMs: Self.waitMs), "the group did not see the drain end")
        #expect(journal.all == ["start plain", "start slow", "drain slow", "drained slow", "stop slow", "stop plain"])
        let drained = logs.all.filter { $0.message.hasSuffix(" drained") }
        #expect(drained.map(\.message) == ["plain drained", "slow drained"])
        #expect(drained.map { $0.metadata["reason"] } == ["nothing left to serve", "test work done"])
    }

    @Test func theGracePeriodEndsADrainThatNeverFinishes() throws {
        let journal = Journal()
        let logs = CapturedLogs()
        let stuck = DrainingService("stuck", journal)
        let group = ServiceGroup([stuck], logger: Logger(label: "test", factory: { _ in logs.handler() }))
        try group.start()
        let requests = ShutdownRequests()
        requests.request(.graceful)

        let gracePeriodMs = 200
        let startMs = Monotonic.nowMs()
        group.run(until: requests, gracePeriodMs: gracePeriodMs)
        let elapsedMs = Monotonic.nowMs() - startMs
        #expect(elapsedMs >= UInt64(gracePeriodMs))
        #expect(elapsedMs < UInt64(Self.waitMs))
        #expect(stuck.drainChecks >= 2, "the group did not poll while it waited")
        #expect(journal.all == ["start stuck", "drain stuck", "stop stuck"])
        #expect(logs.all.map(\.message) == ["stuck draining", "stuck drained", "stuck stopping", "stuck stopped"])
        let drained = logs.all.first { $0.message == "stuck drained" }
        #expect(drained?.metadata["reason"] == "grace period over")
        #expect(drained?.metadata["items.held"] == "1")
    }

    @Test func aSecondRequestCutsTheDrainShort() throws {
        let journal = Journal()
        let logs = CapturedLogs()
        let group = ServiceGroup(
            [DrainingService("stuck", journal)],
            logger: Logger(label: "test", factory: { _ in logs.handler() }))
        try group.start()
        let requests = ShutdownRequests()
        requests.request(.graceful)
        let run = try BackgroundRun(group, until: requests, gracePeriodMs: Self.longGraceMs)

        try #require(journal.waitUntil(timeoutMs: Self.waitMs) { journal.all.contains("drain stuck") })
        requests.request(.graceful)  // a second SIGTERM
        try #require(run.waitForEnd(timeoutMs: Self.waitMs), "a second request did not end the drain")
        #expect(journal.all == ["start stuck", "drain stuck", "stop stuck"])
        #expect(logs.all.map(\.message).contains("stuck drain cut short"))
    }

    @Test func anImmediateRequestSkipsDraining() throws {
        let journal = Journal()
        let stuck = DrainingService("stuck", journal)
        let group = ServiceGroup([stuck], logger: quietLogger)
        try group.start()
        let requests = ShutdownRequests()
        requests.request(.immediate)
        group.run(until: requests, gracePeriodMs: Self.longGraceMs)
        #expect(journal.all == ["start stuck", "stop stuck"])
        #expect(stuck.drainChecks == 0)
    }
}
