import SluiceCore
import SluiceSystem
import Synchronization

/// Something with request deadlines to enforce.
protocol RequestExpiring: AnyObject, Sendable {
    /// Fails the requests whose deadline is at or before `nowNs`.
    func expireRequests(nowNs: UInt64)
}

/// One process-wide thread that fails timed-out client requests every `tickMs` (the time-out granularity).
/// Holds clients weakly; it sleeps while none is registered.
final class RequestTimeoutSweeper: Sendable {
    static let shared = RequestTimeoutSweeper(tickMs: 20)

    private struct Entry {
        weak var target: (any RequestExpiring)?
    }
    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var threadStarted = false
    }
    private let state = Mutex(State())
    private let registered = ConditionVariable()
    private let tickMs: Int

    private init(tickMs: Int) { self.tickMs = tickMs }

    func register(_ target: any RequestExpiring) {
        let startThread = state.withLock { s -> Bool in
            s.entries[ObjectIdentifier(target)] = Entry(target: target)
            defer { s.threadStarted = true }
            return !s.threadStarted
        }
        if startThread {
            do {
                try SystemThread.spawn(stackBytes: 256 * 1024) { self.run() }
            } catch {
                state.withLock { $0.threadStarted = false }
            }
        }
        registered.broadcast()
    }

    func unregister(_ target: any RequestExpiring) {
        state.withLock { _ = $0.entries.removeValue(forKey: ObjectIdentifier(target)) }
    }

    private func run() {
        while true {
            registered.wait(until: { self.state.withLock { !$0.entries.isEmpty } }, timeoutMs: -1)
            registered.wait(until: { false }, timeoutMs: tickMs)
            let targets = state.withLock { s -> [any RequestExpiring] in
                s.entries = s.entries.filter { $0.value.target != nil }
                return s.entries.values.compactMap { $0.target }
            }
            let now = Monotonic.nowNs()
            for target in targets { target.expireRequests(nowNs: now) }
        }
    }
}
