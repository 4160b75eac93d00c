import Synchronization

/// One process-wide account of buffered bytes (network, flush, replication) with hysteresis:
/// above `highWatermarkBytes` readers stop reading their sockets (`acquireUnlessPaused` refuses,
/// `waitUntilBelowHighWatermark` blocks) until usage falls below `lowWatermarkBytes`. `acquire` never blocks nor
/// refuses: data already read (or copied into a flush buffer) must be accounted. Readers that reserve a frame's body
/// with `acquireUnlessPaused` before reading it take the high watermark past by at most one frame between them.
public final class MemoryBudget: Sendable {
    public let capacityBytes: Int
    public let highWatermarkBytes: Int
    public let lowWatermarkBytes: Int

    private struct State {
        var usedBytes = 0
        var peakBytes = 0
        var paused = false
        var pauseCount = 0
    }

    private let state = Mutex(State())
    private let condition = ConditionVariable()

    /// - Parameters:
    ///   - capacityBytes: the budget.
    ///   - highFraction: pause readers above this fraction of capacity (e.g. 0.85).
    ///   - lowFraction: resume below this fraction (e.g. 0.70).
    public init(capacityBytes: Int, highFraction: Double = 0.85, lowFraction: Double = 0.70) {
        precondition(capacityBytes > 0 && lowFraction <= highFraction && highFraction <= 1.0)
        self.capacityBytes = capacityBytes
        self.highWatermarkBytes = Int(Double(capacityBytes) * highFraction)
        self.lowWatermarkBytes = Int(Double(capacityBytes) * lowFraction)
    }

    public var usedBytes: Int { state.withLock { $0.usedBytes } }
    public var peakBytes: Int { state.withLock { $0.peakBytes } }
    public var isPaused: Bool { state.withLock { $0.paused } }
    /// How many times use crossed the high watermark and readers were paused (backpressure episodes).
    public var pauseCount: Int { state.withLock { $0.pauseCount } }

    /// Accounts `bytes` as held.
    public func acquire(_ bytes: Int) {
        precondition(bytes >= 0)
        state.withLock { s in
            s.usedBytes += bytes
            s.peakBytes = max(s.peakBytes, s.usedBytes)
            if s.usedBytes >= highWatermarkBytes && !s.paused {
                s.paused = true
                s.pauseCount += 1
            }
        }
    }

    /// Accounts `bytes` as held unless the budget is paused, in one step: readers woken together when use falls
    /// below the low watermark cannot all see "not paused" before any of them is counted, so together they pass
    /// the high watermark by at most one reservation. False (nothing accounted) while paused.
    public func acquireUnlessPaused(_ bytes: Int) -> Bool {
        precondition(bytes >= 0)
        return state.withLock { s in
            guard !s.paused else { return false }
            s.usedBytes += bytes
            s.peakBytes = max(s.peakBytes, s.usedBytes)
            if s.usedBytes >= highWatermarkBytes {
                s.paused = true
                s.pauseCount += 1
            }
            return true
        }
    }

    /// Returns `bytes` to the budget and wakes paused readers once usage is below the low watermark.
    public func release(_ bytes: Int) {
        precondition(bytes >= 0)
        let wake = state.withLock { s -> Bool in
            s.usedBytes -= bytes
            precondition(s.usedBytes >= 0, "memory budget released more than it acquired")
            if s.paused && s.usedBytes <= lowWatermarkBytes {
                s.paused = false
                return true
            }
            return false
        }
        if wake { condition.broadcast() }
    }

    /// Blocks while the budget is paused, up to `timeoutMs`. Returns false on time-out (still paused).
    @discardableResult
    public func waitUntilBelowHighWatermark(timeoutMs: Int) -> Bool {
        condition.wait(until: { !self.isPaused }, timeoutMs: timeoutMs)
    }
}
