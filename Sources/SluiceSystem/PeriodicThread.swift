import Synchronization

/// A dedicated thread that runs a body repeatedly until stopped. The body returns how many milliseconds to wait
/// before its next run; `stop()` wakes the wait at once and waits (bounded) for the thread to finish.
public final class PeriodicThread: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    private let runSoon = Atomic<Bool>(false)
    private let wake = ConditionVariable()
    private let finished = ConditionVariable()

    public init() {}

    /// True once `stop()` was called.
    public var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    /// Starts the thread. Throws when the thread cannot be created.
    public func start(_ body: @escaping @Sendable () -> Int) throws {
        running.store(true, ordering: .sequentiallyConsistent)
        do {
            try SystemThread.spawn { [self] in
                while !isStopping {
                    let delayMs = body()
                    wake.wait(
                        until: { self.isStopping || self.runSoon.load(ordering: .sequentiallyConsistent) },
                        timeoutMs: max(delayMs, 0))
                    runSoon.store(false, ordering: .sequentiallyConsistent)
                }
                running.store(false, ordering: .sequentiallyConsistent)
                finished.broadcast()
            }
        } catch {
            running.store(false, ordering: .sequentiallyConsistent)
            throw error
        }
    }

    /// Runs the body again as soon as its current run (or wait) ends, instead of after the delay it asked for.
    public func runNow() {
        runSoon.store(true, ordering: .sequentiallyConsistent)
        wake.broadcast()
    }

    /// Asks the loop to stop without waiting: the body's current run finishes, no further run starts.
    public func requestStop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wake.broadcast()
    }

    /// Asks the loop to stop and waits up to `timeoutMs` for the body's current run to end.
    public func stop(timeoutMs: Int = 10_000) {
        requestStop()
        finished.wait(until: { !self.running.load(ordering: .sequentiallyConsistent) }, timeoutMs: timeoutMs)
    }
}
