#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A pthread mutex and condition variable pair for waiting on a predicate with a deadline.
/// The predicate reads state guarded elsewhere; `broadcast` must follow every change that can make it true.
public final class ConditionVariable: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if os(Linux)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(cond, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    /// Wakes every waiter so it re-checks its predicate.
    public func broadcast() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until `predicate()` is true or `timeoutMs` passes (negative: forever). Returns the last predicate value.
    /// Wakes at least every 50 ms to re-check, so a missed broadcast costs latency, never a hang.
    @discardableResult
    public func wait(until predicate: () -> Bool, timeoutMs: Int) -> Bool {
        let deadline = timeoutMs < 0 ? UInt64.max : Monotonic.nowNs() &+ UInt64(timeoutMs) * 1_000_000
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if predicate() { return true }
            let now = Monotonic.nowNs()
            if now >= deadline { return false }
            let sliceNs = min(deadline - now, 50_000_000)
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let total = UInt64(ts.tv_nsec) + sliceNs
            ts.tv_sec += Int(total / 1_000_000_000)
            ts.tv_nsec = Int(total % 1_000_000_000)
            pthread_cond_timedwait(cond, mutex, &ts)
        }
    }
}

/// Monotonic clock readings.
public enum Monotonic {
    public static func nowNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public static func nowMs() -> UInt64 { nowNs() / 1_000_000 }
}
