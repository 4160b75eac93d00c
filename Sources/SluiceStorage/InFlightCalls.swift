import SluiceSystem
import Synchronization

/// The file-system calls a directory has in flight and when each started, so a call that does not return (a hung
/// network mount, a dying device) is noticed by the threads that are not stuck in it.
final class InFlightCalls: Sendable {
    private struct State {
        var nextToken: UInt64 = 0
        var startedMs: [UInt64: UInt64] = [:]
    }

    private let state = Mutex(State())

    /// Records a call starting now; pass the token to `end`.
    func begin() -> UInt64 {
        let nowMs = Monotonic.nowMs()
        return state.withLock { s in
            let token = s.nextToken
            s.nextToken &+= 1
            s.startedMs[token] = nowMs
            return token
        }
    }

    /// Records that the call `token` returned.
    func end(_ token: UInt64) {
        state.withLock { _ = $0.startedMs.removeValue(forKey: token) }
    }

    /// How long the oldest call in flight has been running; nil when none is.
    func oldestAgeMs(nowMs: UInt64 = Monotonic.nowMs()) -> UInt64? {
        state.withLock { s in s.startedMs.values.min().map { nowMs >= $0 ? nowMs - $0 : 0 } }
    }
}
