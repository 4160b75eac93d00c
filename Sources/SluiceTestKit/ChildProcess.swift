import Foundation
import SluiceCore
import SluiceSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How a child process ended.
public enum ChildExit: Equatable, Sendable {
    /// It returned this exit status.
    case exited(Int32)
    /// A signal of this number ended it.
    case signalled(Int32)
    /// It has not ended (or was not reaped yet).
    case stillRunning
}

/// A launched executable (posix_spawn, no Foundation `Process`): standard output and error go to files, an
/// announced line is awaited by reading the output file until a deadline, and the exit is reaped with `waitpid`.
/// Foundation's `Process` and `FileHandle.readabilityHandler` use Dispatch sources; tests that start and kill a
/// hundred children crashed libdispatch's event loop with them. Any thread may signal, wait for or kill the child.
public final class ChildProcess: @unchecked Sendable {
    /// The child's process id (valid until it is reaped).
    public let pid: pid_t
    /// The executable's file name.
    public let name: String
    /// Where the child's standard output goes.
    public let outputPath: String
    /// Where the child's standard error goes (its log).
    public let errorPath: String
    // The exit is read and set under `exit`: nothing signals a pid after it was reaped (and maybe reused).
    private let exit = Mutex<ChildExit>(.stillRunning)

    /// Starts `executable` with `arguments` and this process's environment; standard input is /dev/null.
    /// - Throws: `TestKitError` when `posix_spawn` fails.
    public init(executable: String, arguments: [String], outputPath: String, errorPath: String) throws {
        name = (executable as NSString).lastPathComponent
        self.outputPath = outputPath
        self.errorPath = errorPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in environment { free(pointer) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, nil, argv, environment)
        guard rc == 0 else { throw TestKitError.system("posix_spawn of \(executable)", errno: rc) }
        pid = child
        RunningChildren.add(child)
    }

    /// Starts `executable` with its output in `directory/NAME-UUID.stdout` and `.stderr`.
    /// - Throws: `TestKitError` when `posix_spawn` fails.
    public convenience init(executable: String, arguments: [String], outputIn directory: String) throws {
        let base = "\(directory)/\((executable as NSString).lastPathComponent)-\(UUID().uuidString)"
        try self.init(
            executable: executable, arguments: arguments, outputPath: base + ".stdout",
            errorPath: base + ".stderr")
    }

    /// The port at the end of the first stdout line starting with `prefix` (`... HOST:PORT`); nil when the
    /// child exits or `timeoutMs` passes first.
    public func announcedPort(prefix: String, timeoutMs: Int) -> Int? {
        let deadlineNs = Monotonic.nowNs() + UInt64(max(timeoutMs, 0)) * 1_000_000
        while Monotonic.nowNs() < deadlineNs {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            // Only whole lines: the child may be in the middle of writing one.
            if let line = text.split(separator: "\n").dropLast(text.hasSuffix("\n") ? 0 : 1)
                .first(where: { $0.hasPrefix(prefix) }), let colon = line.lastIndex(of: ":")
            {
                return Int(line[line.index(after: colon)...])
            }
            if waitForExit(timeoutMs: 0) != .stillRunning { return nil }
            usleep(5_000)
        }
        return nil
    }

    /// Sends signal `number` to the child if it has not been reaped.
    public func signal(_ number: Int32) {
        exit.withLock { exit in
            if exit == .stillRunning { _ = Glibc.kill(pid, number) }
        }
    }

    /// Asks the child to stop (SIGTERM).
    public func terminate() { signal(SIGTERM) }

    /// Waits up to `timeoutMs` for the child to end, reaping it.
    public func waitForExit(timeoutMs: Int) -> ChildExit {
        let deadlineNs = Monotonic.nowNs() + UInt64(max(timeoutMs, 0)) * 1_000_000
        while true {
            let result = exit.withLock { exit -> ChildExit in
                guard exit == .stillRunning else { return exit }
                var status: Int32 = 0
                guard waitpid(pid, &status, WNOHANG) == pid else { return .stillRunning }
                let signalled = status & 0x7f
                exit = signalled == 0 ? .exited((status >> 8) & 0xff) : .signalled(signalled)
                RunningChildren.remove(pid)
                return exit
            }
            if result != .stillRunning || Monotonic.nowNs() >= deadlineNs { return result }
            usleep(2_000)
        }
    }

    /// Waits up to `graceMs` for the child to end (after `terminate()`, say), then kills it with SIGKILL and
    /// reaps it. With the default grace of 0 it is killed at once.
    public func kill(graceMs: Int = 0) {
        if graceMs > 0, waitForExit(timeoutMs: graceMs) != .stillRunning { return }
        signal(SIGKILL)
        _ = waitForExit(timeoutMs: 5_000)
    }

    /// What the child wrote to standard error so far.
    public var standardError: String {
        (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "(unreadable)"
    }

    /// The last `lines` lines of the child's standard error.
    public func standardErrorTail(lines: Int = 20) -> String {
        standardError.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

}

/// The process ids of children started by `ChildProcess` and not reaped yet, so that a signal handler can kill
/// every server before the process exits.
public enum RunningChildren {
    private static let pids = Mutex<Set<pid_t>>([])

    /// The children not reaped yet.
    public static var all: Set<pid_t> { pids.withLock { $0 } }

    static func add(_ pid: pid_t) { pids.withLock { _ = $0.insert(pid) } }
    static func remove(_ pid: pid_t) { pids.withLock { _ = $0.remove(pid) } }
}
