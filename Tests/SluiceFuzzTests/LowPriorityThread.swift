import SluiceSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs work on a thread of its own at the lowest CPU priority (nice 19) and waits for the result: the decoder fuzz
/// then takes only CPU that the suites running alongside in `swift test` leave, and their timing stays as it was.
enum LowPriorityThread {
    private final class Slot<T: Sendable>: Sendable {
        let value = Mutex<T?>(nil)
        let filled = ConditionVariable()
    }

    /// `body`'s result, or nil when it did not finish within `timeoutMs`.
    static func run<T: Sendable>(timeoutMs: Int, _ body: @escaping @Sendable () -> T) throws -> T? {
        let slot = Slot<T>()
        try SystemThread.spawn(stackBytes: 8 << 20) {
            // Linux keeps the nice value per thread: this lowers this thread only.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            let result = body()
            slot.value.withLock { $0 = result }
            slot.filled.broadcast()
        }
        slot.filled.wait(until: { slot.value.withLock { $0 != nil } }, timeoutMs: timeoutMs)
        return slot.value.withLock { $0 }
    }
}

/// The CPU time one thread has used. A hang is time spent computing: at the lowest priority an input may wait long
/// for a CPU on a busy machine, which wall-clock time would count.
struct ThreadCPUClock: Sendable {
    private let clock: clockid_t

    /// The calling thread's clock; nil when the system has none.
    static func current() -> ThreadCPUClock? {
        var clock = clockid_t()
        guard pthread_getcpuclockid(pthread_self(), &clock) == 0 else { return nil }
        return ThreadCPUClock(clock: clock)
    }

    /// Nanoseconds of CPU time so far (readable from any thread while the clock's thread lives).
    func nowNs() -> UInt64 {
        var time = timespec()
        guard clock_gettime(clock, &time) == 0 else { return 0 }
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
