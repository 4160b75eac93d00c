import Foundation
import Glibc
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Synchronization

/// Kills every running child (`RunningChildren`) with SIGKILL when the benchmark gets SIGINT or SIGTERM (Ctrl-C),
/// so that no server outlives an interrupted run, and removes the cluster's directories.
final class ChildRegistry: Sendable {
    static let shared = ChildRegistry()
    private let directories = Mutex<Set<String>>([])
    private let aborting = Atomic<Bool>(false)

    /// While `abort` runs (it ends the process), other threads' clean-up waits here instead of racing it.
    func waitIfAborting() {
        guard aborting.load(ordering: .sequentiallyConsistent) else { return }
        ConditionVariable().wait(until: { false }, timeoutMs: 10_000)
    }

    /// Directories removed by the signal handler (the cluster's storage).
    func addDirectory(_ path: String) { directories.withLock { _ = $0.insert(path) } }
    func removeDirectory(_ path: String) { directories.withLock { _ = $0.remove(path) } }

    /// Kills every registered child, removes the registered directories, and exits with `status`.
    func abort(status: Int32, message: String) -> Never {
        aborting.store(true, ordering: .sequentiallyConsistent)
        let children = RunningChildren.all
        for pid in children { _ = Glibc.kill(pid, SIGKILL) }
        // Wait (up to 2 s) until they are dead (gone or zombies), so no write lands after the directories go.
        let deadline = Monotonic.nowMs() + 2_000
        while Monotonic.nowMs() < deadline, children.contains(where: Self.isAlive) {
            ConditionVariable().wait(until: { false }, timeoutMs: 10)
        }
        for path in directories.withLock({ $0 }) {
            for _ in 0..<5 where FileManager.default.fileExists(atPath: path) {
                try? FileManager.default.removeItem(atPath: path)
                if FileManager.default.fileExists(atPath: path) {
                    ConditionVariable().wait(until: { false }, timeoutMs: 100)
                }
            }
        }
        FileHandle.standardError.write(Data("sluice-bench: \(message)\n".utf8))
        exit(status)
    }

    private static func isAlive(_ pid: Int32) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return false }
        // A zombie leader may still have threads exiting (and finishing writes): dead only when they are gone too.
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task"))?.count ?? 0
        return !text[text.index(after: close)...].hasPrefix(" Z") || threads > 1
    }

    /// Installs the SIGINT/SIGTERM handlers (once, at start-up).
    func installSignalHandlers() {
        var made: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                abort(status: 128 + number, message: "interrupted, servers killed")
            }
            source.resume()
            made.append(source)
        }
        signalSources = made
    }
}

/// Keeps the signal sources alive; written once at start-up on the main thread, never read.
private nonisolated(unsafe) var signalSources: [any DispatchSourceSignal] = []

/// Ends the run if one scenario takes longer than its limit (a stalled cluster): kills the servers and exits 3.
final class Watchdog: Sendable {
    private let done = Atomic<Bool>(false)

    init(limitSeconds: Int, what: String) {
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(limitSeconds)) { [self] in
            guard !done.load(ordering: .acquiring) else { return }
            ChildRegistry.shared.abort(
                status: 3,
                message: "\(what) did not finish within \(limitSeconds) s "
                    + "(--scenario-timeout); servers killed")
        }
    }

    func cancel() { done.store(true, ordering: .releasing) }
}
