import Dispatch

/// A repeating timer on a Dispatch global queue whose handler never blocks (it must return quickly).
/// Cancelled explicitly or when released.
public final class RepeatingTimer: @unchecked Sendable {
    // The source is created, resumed and cancelled only through this class; DispatchSource is thread-safe
    // for resume/cancel, which is all that is called on it after init.
    private let source: DispatchSourceTimer

    /// Starts a timer that calls `handler` every `intervalMs` (at least 1 ms), first after one interval.
    public init(intervalMs: Int, handler: @escaping @Sendable () -> Void) {
        source = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        let interval = DispatchTimeInterval.milliseconds(max(intervalMs, 1))
        source.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(5))
        source.setEventHandler(handler: handler)
        source.resume()
    }

    /// Stops the timer; a handler already running finishes.
    public func cancel() { source.cancel() }

    deinit { source.cancel() }
}
