import Logging

/// A long-running part of a process (a server) that `ServiceGroup` starts, drains and stops in order.
///
/// The group calls these one at a time from the thread that runs it, while the service's own threads keep working
/// (so `isDrained` must be safe to read meanwhile). A service with nothing to drain keeps the defaults:
/// `beginDraining()` does nothing and `isDrained` is true at once.
public protocol Service: AnyObject, Sendable {
    /// Names the service in log messages ("worker" logs "worker draining", "worker stopped").
    var name: String { get }

    /// Starts serving. A `start()` that throws leaves nothing of the service running (it cleans up after itself).
    func start() throws

    /// Stops taking new work; work already taken goes on until `stop()`.
    func beginDraining()

    /// True once draining has nothing left to wait for.
    var isDrained: Bool { get }

    /// Why `isDrained` became true, the `reason` logged when it does ("no shuffle data left").
    var drainedReason: String { get }

    /// What the service still holds, logged when the grace period ends before it drained (`shuffles.held`).
    var drainProgress: Logger.Metadata { get }

    /// Stops at once. Safe to call more than once.
    func stop()
}

extension Service {
    /// Nothing to drain.
    public func beginDraining() {}

    /// Nothing to drain, so drained at once.
    public var isDrained: Bool { true }

    /// A generic reason.
    public var drainedReason: String { "nothing left to serve" }

    /// Nothing to report.
    public var drainProgress: Logger.Metadata { [:] }
}
