import SluiceCore
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

/// Polls `condition` every `pollIntervalMs` until it holds or `timeoutMs` passes (a deadline, not a fixed sleep).
/// - Returns: the condition's last value: true when it held in time.
public func waitUntil(timeoutMs: Int, pollIntervalMs: Int = 2, _ condition: () -> Bool) -> Bool {
    let deadlineNs = Monotonic.nowNs() + UInt64(max(timeoutMs, 0)) * 1_000_000
    while !condition() {
        guard Monotonic.nowNs() < deadlineNs else { return condition() }
        usleep(UInt32(clamping: pollIntervalMs * 1_000))
    }
    return true
}

/// Polls `condition` every `pollIntervalMs` until it holds or `timeoutMs` passes.
/// - Throws: `TimedOut(what:)` when the deadline passes first.
public func waitUntil(
    _ what: @autoclosure () -> String, timeoutMs: Int = 10_000, pollIntervalMs: Int = 2,
    _ condition: () -> Bool
) throws {
    guard waitUntil(timeoutMs: timeoutMs, pollIntervalMs: pollIntervalMs, condition) else {
        throw TimedOut(what: what())
    }
}
