import Foundation
import SluiceCore
import SluiceNet
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the built `sluice-master` and `sluice-worker` executables as child processes: they announce their ports,
/// the worker registers, and both exit 0 on SIGTERM.
@Suite struct ExecutableTests {
    static let deadline: Duration = .seconds(20)

    @Test(.enabled(if: BuiltExecutables.directory != nil,
                   "sluice-master/sluice-worker are not built next to the test bundle (run `swift build` first)"))
    func masterAndWorkerStartRegisterAndStopOnSIGTERM() throws {
        let directory = try #require(BuiltExecutables.directory)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-exec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        let master = try ChildProcess(executable: directory.appendingPathComponent("sluice-master"),
                                      arguments: ["--port", "0"], scratch: scratch)
        defer { master.kill() }
        let masterPort = try #require(master.announcedPort(prefix: "sluice-master listening on ",
                                                           within: Self.deadline),
                                      "master did not announce its port; stderr:\n\(master.standardError)")

        let worker = try ChildProcess(
            executable: directory.appendingPathComponent("sluice-worker"),
            arguments: ["--port", "0", "--storage-dir", scratch.appendingPathComponent("data").path,
                        "--master", "127.0.0.1:\(masterPort)", "--shutdown-grace-period", "200ms"],
            scratch: scratch)
        defer { worker.kill() }
        let workerPort = try #require(worker.announcedPort(prefix: "sluice-worker listening on ", within: Self.deadline),
                                      "worker did not announce its port; stderr:\n\(worker.standardError)")

        // Registration is asynchronous: ask until the master places partitions (it answers noWorkers before).
        let client = try FrameClient.connect(host: "127.0.0.1", port: masterPort, role: .client,
                                             identity: "executable-test")
        defer { client.close() }  // also on a thrown error; closing twice is harmless
        let request = RegisterShuffleRequest(shuffle: ShuffleKey(applicationId: "app-executable-test", shuffleId: 1),
                                             numMappers: 1, numPartitions: 4, replicate: false)
        let giveUp = ContinuousClock.now + Self.deadline
        var reply = try LocationsResponse.decode(body: client.call(type: .registerShuffle, body: request.encoded()).body)
        while reply.head.status == .noWorkers, ContinuousClock.now < giveUp {
            Thread.sleep(forTimeInterval: 0.05)
            reply = try LocationsResponse.decode(body: client.call(type: .registerShuffle, body: request.encoded()).body)
        }
        client.close()
        #expect(reply.head.status == .ok, "registerShuffle: \(reply.head.message)")
        #expect(reply.table.entries.count == 4)
        #expect(reply.table.workers.map(\.endpoint) == ["127.0.0.1:\(workerPort)"],
                "the table should name the one worker")

        worker.signal(SIGTERM)
        master.signal(SIGTERM)
        let workerExit = worker.waitForExit(within: Self.deadline)
        let masterExit = master.waitForExit(within: Self.deadline)
        #expect(workerExit == .exited(0), "worker stderr:\n\(worker.standardError)")
        #expect(masterExit == .exited(0), "master stderr:\n\(master.standardError)")
    }

    /// Each benchmark run is its own application: a second run against the same cluster, while the first run's
    /// shuffles are still remembered as deleted, must not push into them.
    @Test(.enabled(if: BuiltExecutables.directory.map {
        FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("sluice-bench").path)
    } ?? false, "sluice-bench is not built next to the test bundle"))
    func benchmarkRunsTwiceAgainstOneCluster() throws {
        let directory = try #require(BuiltExecutables.directory)
        let cluster = try ProcessCluster(workers: 2)
        defer { cluster.shutdown() }
        for run in 1...2 {
            let bench = try ChildProcess(executable: directory.appendingPathComponent("sluice-bench"), arguments: [
                "--master", cluster.masterEndpoint, "--scenarios", "large-batches-r2-none", "--bytes", "2m",
                "--no-mixed", "--no-local-disk-shuffle", "--no-floor-baselines", "--warmup-rounds", "0", "--rounds", "1",
                "--directory", cluster.scratch.path,
            ], scratch: cluster.scratch)
            defer { bench.kill() }
            #expect(bench.waitForExit(within: .seconds(120)) == .exited(0), "run \(run): \(bench.standardError)")
        }
    }
}

/// Where `swift build` put the executables: next to the test bundle, or under the package's `.build/debug`.
enum BuiltExecutables {
    static let directory: URL? = {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        let argument0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var bundleDirectory = argument0.deletingLastPathComponent()
        // Inside an `.xctest` bundle directory (Darwin), step out of it.
        while bundleDirectory.pathComponents.count > 1,
              bundleDirectory.pathComponents.contains(where: { $0.hasSuffix(".xctest") }) {
            bundleDirectory.deleteLastPathComponent()
        }
        candidates.append(bundleDirectory)
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        return candidates.first { directory in
            ["sluice-master", "sluice-worker"].allSatisfy {
                FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent($0).path)
            }
        }
    }()
}

/// `kill(2)`, under a name that `ChildProcess.kill()` does not shadow.
private func sendSignal(_ number: Int32, to pid: Int32) {
    _ = kill(pid, number)
}

/// How a child process ended.
enum ChildExit: Equatable {
    case exited(Int32)
    case signalled(Int32)
    case stillRunning
}

/// A launched executable (posix_spawn, no Foundation `Process`): standard output and error go to files, the port
/// line is awaited by reading the output file until a deadline, and the exit is reaped with `waitpid`. Foundation's
/// `Process` and `FileHandle.readabilityHandler` use Dispatch sources; tests that start and kill a hundred children
/// crashed libdispatch's event loop with them.
final class ChildProcess: @unchecked Sendable {
    // The exit is read and set under `lock`, so any thread may signal, wait for or kill the child.
    private let pid: pid_t
    private let outputFile: String
    private let errorFile: String
    private let lock = Mutex<ChildExit>(.stillRunning)

    init(executable: URL, arguments: [String], scratch: URL) throws {
        let name = "\(executable.lastPathComponent)-\(UUID().uuidString)"
        outputFile = scratch.appendingPathComponent(name + ".stdout").path
        errorFile = scratch.appendingPathComponent(name + ".stderr").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let env = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in env { free(pointer) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable.path, &actions, nil, argv, env)
        guard rc == 0 else { throw TimedOut(what: "posix_spawn of \(executable.path): error \(rc)") }
        pid = child
    }

    /// The port at the end of the first stdout line starting with `prefix` (`... HOST:PORT`), or nil.
    func announcedPort(prefix: String, within timeout: Duration) -> Int? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
            // Only whole lines: the child may be in the middle of writing one.
            if let line = text.split(separator: "\n").dropLast(text.hasSuffix("\n") ? 0 : 1)
                .first(where: { $0.hasPrefix(prefix) }), let colon = line.lastIndex(of: ":") {
                return Int(line[line.index(after: colon)...])
            }
            if waitForExit(within: .zero) != .stillRunning { return nil }
            usleep(5_000)
        }
        return nil
    }

    /// Sends `signal` to the process if it has not been reaped.
    func signal(_ number: Int32) {
        lock.withLock { exit in
            if exit == .stillRunning { sendSignal(number, to: pid) }
        }
    }

    /// Waits for the process to end, up to `timeout`, reaping it.
    func waitForExit(within timeout: Duration) -> ChildExit {
        let deadline = ContinuousClock.now + timeout
        while true {
            let result = lock.withLock { exit -> ChildExit in
                guard exit == .stillRunning else { return exit }
                var status: Int32 = 0
                guard waitpid(pid, &status, WNOHANG) == pid else { return .stillRunning }
                let signalled = status & 0x7f
                exit = signalled == 0 ? .exited((status >> 8) & 0xff) : .signalled(signalled)
                return exit
            }
            if result != .stillRunning || ContinuousClock.now >= deadline { return result }
            usleep(2_000)
        }
    }

    /// Kills the process if it still runs (clean-up after a failed expectation) and reaps it.
    func kill() {
        signal(SIGKILL)
        _ = waitForExit(within: .seconds(5))
    }

    /// What the process wrote to standard error so far.
    var standardError: String {
        (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? "(unreadable)"
    }
}
