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

/// A launched executable: standard output collected as lines (waited for with a deadline), standard error in a
/// file for failure messages, and its exit.
final class ChildProcess {
    private let process = Process()
    private let output = OutputLines()
    private let exited = DispatchSemaphore(value: 0)
    private let errorFile: URL

    init(executable: URL, arguments: [String], scratch: URL) throws {
        errorFile = scratch.appendingPathComponent("\(executable.lastPathComponent)-\(UUID().uuidString).stderr")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = try FileHandle(forWritingTo: errorFile)
        let lines = output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                lines.finish()
            } else {
                lines.append(data)
            }
        }
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
    }

    /// The port at the end of the first stdout line starting with `prefix` (`... HOST:PORT`), or nil.
    func announcedPort(prefix: String, within timeout: Duration) -> Int? {
        guard let line = output.waitForLine(deadline: ContinuousClock.now + timeout, where: { $0.hasPrefix(prefix) }),
              let colon = line.lastIndex(of: ":") else { return nil }
        return Int(line[line.index(after: colon)...])
    }

    /// Sends `signal` to the process.
    func signal(_ number: Int32) {
        if process.isRunning { sendSignal(number, to: process.processIdentifier) }
    }

    /// Waits for the process to end, up to `timeout`.
    func waitForExit(within timeout: Duration) -> ChildExit {
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        guard exited.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success else { return .stillRunning }
        exited.signal()  // Later waits return at once.
        switch process.terminationReason {
        case .exit: return .exited(process.terminationStatus)
        case .uncaughtSignal: return .signalled(process.terminationStatus)
        @unknown default: return .signalled(process.terminationStatus)
        }
    }

    /// Kills the process if it still runs (clean-up after a failed expectation) and reaps it.
    func kill() {
        guard process.isRunning else { return }
        signal(SIGKILL)
        _ = waitForExit(within: .seconds(5))
    }

    /// What the process wrote to standard error so far.
    var standardError: String {
        (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "(unreadable)"
    }
}

/// Lines of a child's standard output, appended from the pipe's handler and awaited with a deadline.
final class OutputLines: Sendable {
    private struct State {
        var pending: [UInt8] = []
        var lines: [String] = []
        var finished = false
    }
    private let state = Mutex(State())
    private let changed = DispatchSemaphore(value: 0)

    func append(_ data: Data) {
        state.withLock { state in
            state.pending.append(contentsOf: data)
            while let newline = state.pending.firstIndex(of: UInt8(ascii: "\n")) {
                state.lines.append(String(decoding: state.pending[..<newline], as: UTF8.self))
                state.pending.removeSubrange(...newline)
            }
        }
        changed.signal()
    }

    func finish() {
        state.withLock { $0.finished = true }
        changed.signal()
    }

    /// The first line matching `predicate`, waiting for more output until `deadline` or end of output.
    func waitForLine(deadline: ContinuousClock.Instant, where predicate: (String) -> Bool) -> String? {
        while true {
            let (match, finished) = state.withLock { ($0.lines.first(where: predicate), $0.finished) }
            if let match { return match }
            let remaining = deadline - ContinuousClock.now
            if finished || remaining <= .zero { return nil }
            let milliseconds = Int(remaining.components.seconds * 1_000 + remaining.components.attoseconds / 1_000_000_000_000_000)
            _ = changed.wait(timeout: .now() + .milliseconds(max(milliseconds, 1)))
        }
    }
}
