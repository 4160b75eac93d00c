import Logging
import Synchronization

/// Starts services in order, waits for a shutdown request, drains on a graceful one, and stops them in reverse.
///
/// Start is all or nothing: when a service fails to start, the ones started before it are stopped, newest first,
/// and its error is rethrown unchanged (the process names what failed). A `.graceful` request asks every started
/// service to drain, then checks `isDrained` every `drainPollIntervalMs`, blocked in between on
/// `ShutdownRequests.waitForEscalation(timeoutMs:)`: no thread spins, and a second request ends the wait at once.
/// The drain ends when every service drained, the grace period passed, or a request escalated; an `.immediate`
/// request skips it. Messages are a service's name and a constant phrase ("worker draining", "worker stopped"), so
/// each process logs constant lines and the data goes in metadata.
public final class ServiceGroup: Sendable {
    /// How often a drain checks `isDrained`.
    public static let drainPollIntervalMs = 100

    private let services: [any Service]
    private let logger: Logger
    /// The services started so far, in start order.
    private let started = Mutex<[any Service]>([])

    /// A group of `services`, started in this order and stopped in the reverse one.
    public init(_ services: [any Service], logger: Logger) {
        self.services = services
        self.logger = logger
    }

    /// Starts every service in order.
    /// - Throws: the first service's start error, after stopping the services started before it.
    public func start() throws {
        for service in services {
            do {
                try service.start()
            } catch {
                stop()
                throw error
            }
            started.withLock { $0.append(service) }
        }
    }

    /// Blocks until `requests` has a request, drains for up to `gracePeriodMs` if it is `.graceful`, then stops
    /// every started service in reverse start order.
    public func run(until requests: ShutdownRequests, gracePeriodMs: Int) {
        let kind = requests.waitForRequest()
        if kind == .graceful {
            drain(started.withLock { $0 }, requests: requests, gracePeriodMs: gracePeriodMs)
        }
        stop()
    }

    /// Stops every started service at once, newest first. Later calls find nothing left to stop.
    public func stop() {
        let running = started.withLock { services -> [any Service] in
            defer { services = [] }
            return services
        }
        for service in running.reversed() {
            logger.info("\(service.name) stopping")
            service.stop()
            logger.info("\(service.name) stopped")
        }
    }

    private func drain(_ services: [any Service], requests: ShutdownRequests, gracePeriodMs: Int) {
        for service in services {
            logger.info("\(service.name) draining", metadata: ["grace.period.ms": "\(gracePeriodMs)"])
            service.beginDraining()
        }
        let deadlineMs = Monotonic.nowMs() + UInt64(max(gracePeriodMs, 0))
        var draining = services
        // Ends by the deadline at the latest: every pass but the last waits, and time only moves on.
        while true {
            draining = draining.filter { service in
                guard service.isDrained else { return true }
                logger.info("\(service.name) drained", metadata: ["reason": "\(service.drainedReason)"])
                return false
            }
            if draining.isEmpty { return }
            let nowMs = Monotonic.nowMs()
            guard nowMs < deadlineMs else {
                for service in draining {
                    let reason: Logger.Metadata = ["reason": "grace period over"]
                    logger.info(
                        "\(service.name) drained",
                        metadata: reason.merging(service.drainProgress) { first, _ in first })
                }
                return
            }
            if requests.waitForEscalation(timeoutMs: Int(min(deadlineMs - nowMs, UInt64(Self.drainPollIntervalMs)))) {
                for service in draining { logger.info("\(service.name) drain cut short") }
                return
            }
        }
    }
}
