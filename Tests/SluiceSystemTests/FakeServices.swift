import Logging
import SluiceSystem
import Synchronization

/// The calls services received, in order, shared by the services of one test; every change wakes `waitUntil`.
final class Journal: Sendable {
    private let entries = Mutex<[String]>([])
    private let changed = ConditionVariable()

    var all: [String] { entries.withLock { $0 } }

    func record(_ entry: String) {
        entries.withLock { $0.append(entry) }
        changed.broadcast()
    }

    /// Wakes waiters after a change that is not an entry (a counter of a service).
    func touch() { changed.broadcast() }

    /// Waits until `predicate()` is true or `timeoutMs` passes; returns the predicate's last value.
    func waitUntil(timeoutMs: Int, _ predicate: () -> Bool) -> Bool {
        changed.wait(until: predicate, timeoutMs: timeoutMs)
    }
}

/// Why a fake service refused to start.
struct StartRefused: Error, Equatable {
    var name: String
}

/// A service that drains only when the test calls `finishDraining()`, and counts how often it was asked.
final class DrainingService: Service {
    let name: String
    private let journal: Journal
    private let refusesToStart: Bool
    private let state = Mutex((drained: false, checks: 0))

    init(_ name: String, _ journal: Journal, refusesToStart: Bool = false) {
        self.name = name
        self.journal = journal
        self.refusesToStart = refusesToStart
    }

    /// How often `isDrained` was read.
    var drainChecks: Int { state.withLock { $0.checks } }

    func start() throws {
        journal.record("start \(name)")
        if refusesToStart { throw StartRefused(name: name) }
    }

    func beginDraining() { journal.record("drain \(name)") }

    var isDrained: Bool {
        defer { journal.touch() }
        return state.withLock { state in
            state.checks += 1
            return state.drained
        }
    }

    var drainedReason: String { "test work done" }

    var drainProgress: Logger.Metadata { ["items.held": "1"] }

    /// Makes `isDrained` true from now on.
    func finishDraining() {
        state.withLock { $0.drained = true }
        journal.record("drained \(name)")
    }

    func stop() { journal.record("stop \(name)") }
}

/// A service that keeps the protocol's drain defaults (like the master).
final class PlainService: Service {
    let name: String
    private let journal: Journal

    init(_ name: String, _ journal: Journal) {
        self.name = name
        self.journal = journal
    }

    func start() throws { journal.record("start \(name)") }

    func stop() { journal.record("stop \(name)") }
}

/// `ServiceGroup.run` on a thread of its own, so the test can act while it waits.
final class BackgroundRun: Sendable {
    private let ended = Mutex(false)
    private let condition = ConditionVariable()

    init(_ group: ServiceGroup, until requests: ShutdownRequests, gracePeriodMs: Int) throws {
        try SystemThread.spawn { [self] in
            group.run(until: requests, gracePeriodMs: gracePeriodMs)
            ended.withLock { $0 = true }
            condition.broadcast()
        }
    }

    /// Waits up to `timeoutMs` for `run` to return; true when it did.
    func waitForEnd(timeoutMs: Int) -> Bool {
        condition.wait(until: { ended.withLock { $0 } }, timeoutMs: timeoutMs)
    }
}
