import CSluiceShim
import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Shutdown requests raised by signals, waited for by the main thread (which blocks on a semaphore, never spins).
///
/// The first request is remembered and wakes `waitForRequest()`; any later request escalates to an immediate
/// stop and wakes `waitForEscalation(timeoutMs:)`.
public final class ShutdownRequests: Sendable {
    /// How the process should stop.
    public enum Kind: Sendable, Equatable {
        /// Stop taking new work, give in-flight work time, then stop.
        case graceful
        /// Stop now.
        case immediate
    }

    public init() {}

    private let state = Mutex<Kind?>(nil)
    private let requested = DispatchSemaphore(value: 0)
    private let escalated = DispatchSemaphore(value: 0)

    /// Records a request; the first wakes `waitForRequest()`, a later one escalates to `.immediate`.
    public func request(_ kind: Kind) {
        let previous = state.withLock { current -> Kind? in
            let previous = current
            current = previous == nil ? kind : .immediate
            return previous
        }
        switch previous {
        case nil: requested.signal()
        case .graceful?: escalated.signal()
        case .immediate?: break
        }
    }

    /// Blocks until the first request and returns its kind.
    public func waitForRequest() -> Kind {
        requested.wait()
        return state.withLock { $0 } ?? .immediate
    }

    /// Blocks until a further request escalates the stop, or `timeoutMs` passes. Returns true when escalated.
    public func waitForEscalation(timeoutMs: Int) -> Bool {
        escalated.wait(timeout: .now() + .milliseconds(max(timeoutMs, 0))) == .success
    }
}

/// Ignores `signals`' default dispositions and delivers them to `handler` on a private serial queue instead.
/// Keep the returned sources alive for as long as the signals should be handled.
public func installSignalSources(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void)
    -> [any DispatchSourceSignal]
{
    let queue = DispatchQueue(label: "sluice.signals", target: .global())
    return signals.map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler { handler(number) }
        source.resume()
        return source
    }
}

/// Turns SIGTERM and SIGINT into shutdown `requests`, logging "shutdown requested" with the signal's name, and
/// ignores SIGPIPE (a reset peer must fail a write, not end the process).
///
/// SIGTERM asks for `terminate` (`.graceful` for a process whose services drain); SIGINT always asks for
/// `.immediate`. Install before starting, so a signal that arrives as soon as the port is announced is handled,
/// and keep the returned sources alive for as long as the signals should be handled.
public func installShutdownSignals(
    _ requests: ShutdownRequests, terminate: ShutdownRequests.Kind,
    logger: Logger
) -> [any DispatchSourceSignal] {
    sluice_ignore_sigpipe()
    return installSignalSources([SIGTERM, SIGINT]) { number in
        logger.info("shutdown requested", metadata: ["signal": "\(signalName(number))"])
        requests.request(number == SIGTERM ? terminate : .immediate)
    }
}

/// A signal's conventional name, for logs.
public func signalName(_ number: Int32) -> String {
    switch number {
    case SIGTERM: "SIGTERM"
    case SIGINT: "SIGINT"
    default: "signal \(number)"
    }
}
