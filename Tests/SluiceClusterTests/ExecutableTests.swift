import Foundation
import SluiceCore
import SluiceNet
import SluiceTestKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the built `sluice-master` and `sluice-worker` executables as child processes: they announce their ports,
/// the worker registers, and both exit 0 on SIGTERM.
@Suite struct ExecutableTests {
    static let deadlineMs = 20_000

    @Test(.enabled(if: BuiltExecutables.directory != nil, "sluice-master/sluice-worker are not built"))
    func everyServerReportsItsVersion() throws {
        let directory = try #require(BuiltExecutables.directory).path
        let scratch = try TempDirectory(prefix: "sluice-version-")
        defer { scratch.remove() }
        for name in ["sluice-master", "sluice-worker"] {
            let child = try ChildProcess(
                executable: directory + "/" + name, arguments: ["--version"],
                outputIn: scratch.path)
            #expect(child.waitForExit(timeoutMs: Self.deadlineMs) == .exited(0))
            let printed = (try? String(contentsOfFile: child.outputPath, encoding: .utf8)) ?? ""
            #expect(printed == "\(name) \(SluiceVersion.current)\n")
        }
    }

    /// `--check-config` builds the configuration as a start would (the tiers' watermarks are checked only then)
    /// and exits without listening: 0 with one line, or 2 naming the key.
    @Test(.enabled(if: BuiltExecutables.directory != nil, "sluice-master/sluice-worker are not built"))
    func checkConfigExitsWithTheVerdictOfAStart() throws {
        let directory = try #require(BuiltExecutables.directory).path
        let scratch = try TempDirectory(prefix: "sluice-check-")
        defer { scratch.remove() }
        let cases: [(text: String, status: Int32)] = [
            ("worker.tiers = kind=nvme dirs=\(scratch.path)/n; kind=fsx dirs=\(scratch.path)/f capacity=1t\n", 0),
            ("worker.tiers = kind=nvme dirs=\(scratch.path)/n high=0.5 low=0.8\n", 2),
        ]
        for (index, entry) in cases.enumerated() {
            let path = scratch.path + "/worker-\(index).conf"
            try entry.text.write(toFile: path, atomically: true, encoding: .utf8)
            let child = try ChildProcess(
                executable: directory + "/sluice-worker", arguments: ["--check-config", "--config", path],
                outputIn: scratch.path)
            #expect(child.waitForExit(timeoutMs: Self.deadlineMs) == .exited(entry.status), "\(entry.text)")
            let printed = (try? String(contentsOfFile: child.outputPath, encoding: .utf8)) ?? ""
            let errors = (try? String(contentsOfFile: child.errorPath, encoding: .utf8)) ?? ""
            if entry.status == 0 {
                #expect(printed == "sluice-worker: configuration ok\n")
            } else {
                #expect(errors.contains("worker.tiers"), "\(errors)")
                #expect(!printed.contains("listening"))
            }
        }
        // Nothing was created: a check opens no storage.
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/n"))
    }

    @Test(
        .enabled(
            if: BuiltExecutables.directory != nil,
            "sluice-master/sluice-worker are not built next to the test bundle (run `swift build` first)"))
    func masterAndWorkerStartRegisterAndStopOnSIGTERM() throws {
        let directory = try #require(BuiltExecutables.directory).path
        let scratch = try TempDirectory(prefix: "sluice-exec-")
        defer { scratch.remove() }

        let master = try ChildProcess(
            executable: directory + "/sluice-master", arguments: ["--port", "0", "--http-port", "0"],
            outputIn: scratch.path)
        defer { master.kill() }
        let masterPort = try #require(
            master.announcedPort(
                prefix: "sluice-master listening on ",
                timeoutMs: Self.deadlineMs),
            "master did not announce its port; stderr:\n\(master.standardError)")

        let worker = try ChildProcess(
            executable: directory + "/sluice-worker",
            arguments: [
                "--port", "0", "--http-port", "0", "--storage-dir", scratch.file("data"),
                "--master", "127.0.0.1:\(masterPort)", "--shutdown-grace-period", "200ms",
            ],
            outputIn: scratch.path)
        defer { worker.kill() }
        let workerPort = try #require(
            worker.announcedPort(
                prefix: "sluice-worker listening on ",
                timeoutMs: Self.deadlineMs),
            "worker did not announce its port; stderr:\n\(worker.standardError)")

        // Registration is asynchronous: ask until the master places partitions (it answers noWorkers before).
        let client = try FrameClient.connect(
            host: "127.0.0.1", port: masterPort, role: .client,
            identity: "executable-test")
        defer { client.close() }  // also on a thrown error; closing twice is harmless
        let request = RegisterShuffleRequest(
            shuffle: ShuffleKey(applicationId: "app-executable-test", shuffleId: 1),
            numMappers: 1, numPartitions: 4, replicate: false)
        var reply = try LocationsResponse.decode(
            body: client.call(type: .registerShuffle, body: request.encoded()).body)
        var callError: (any Error)?
        _ = waitUntil(timeoutMs: Self.deadlineMs, pollIntervalMs: 50) {
            guard reply.head.status == .noWorkers else { return true }
            do {
                reply = try LocationsResponse.decode(
                    body: client.call(
                        type: .registerShuffle,
                        body: request.encoded()
                    ).body)
            } catch {
                callError = error
                return true
            }
            return reply.head.status != .noWorkers
        }
        if let callError { throw callError }
        client.close()
        #expect(reply.head.status == .ok, "registerShuffle: \(reply.head.message)")
        #expect(reply.table.entries.count == 4)
        #expect(
            reply.table.workers.map(\.endpoint) == ["127.0.0.1:\(workerPort)"],
            "the table should name the one worker")

        worker.signal(SIGTERM)
        master.signal(SIGTERM)
        let workerExit = worker.waitForExit(timeoutMs: Self.deadlineMs)
        let masterExit = master.waitForExit(timeoutMs: Self.deadlineMs)
        #expect(workerExit == .exited(0), "worker stderr:\n\(worker.standardError)")
        #expect(masterExit == .exited(0), "master stderr:\n\(master.standardError)")
    }

    /// sluice-bench is built next to the test bundle (`swift build --build-tests` builds it).
    static let benchIsBuilt =
        BuiltExecutables.directory.map {
            FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("sluice-bench").path)
        } ?? false

    /// Each benchmark run is its own application: a second run against the same cluster, while the first run's
    /// shuffles are still remembered as deleted, must not push into them.
    @Test(.enabled(if: benchIsBuilt, "sluice-bench is not built next to the test bundle"))
    func benchmarkRunsTwiceAgainstOneCluster() throws {
        let directory = try #require(BuiltExecutables.directory).path
        let cluster = try ProcessCluster(workers: 2)
        defer { cluster.shutdown() }
        for run in 1...2 {
            let bench = try ChildProcess(
                executable: directory + "/sluice-bench",
                arguments: [
                    "--master", cluster.masterEndpoint, "--scenarios", "large-batches-r2-none", "--bytes", "2m",
                    "--no-mixed", "--no-local-disk-shuffle", "--no-floor-baselines", "--warmup-rounds", "0", "--rounds",
                    "1",
                    "--directory", cluster.scratch.path,
                ], outputIn: cluster.scratch.path)
            defer { bench.kill() }
            #expect(bench.waitForExit(timeoutMs: 120_000) == .exited(0), "run \(run): \(bench.standardError)")
        }
    }

    /// `--suite tiers` runs each scenario on one-tier workers and on workers with three small tiers, verifies every
    /// byte of both, and divides the tiered figures by the one-tier ones of the same round.
    @Test(.enabled(if: benchIsBuilt, "sluice-bench is not built next to the test bundle"))
    func tieredScenariosAreComparedWithOneTierInTheSameRound() throws {
        let directory = try #require(BuiltExecutables.directory).path
        let scratch = try TempDirectory()
        defer { scratch.remove() }
        let json = scratch.file("report.json")
        let bench = try ChildProcess(
            executable: directory + "/sluice-bench",
            arguments: [
                "--scenarios", "large-batches-r1-none,tiered-large-batches-r1-none", "--bytes", "4m",
                "--tier-capacity", "256k", "--no-mixed", "--no-local-disk-shuffle", "--no-floor-baselines",
                "--warmup-rounds", "0", "--rounds", "1", "--directory", scratch.path, "--json", json,
            ], outputIn: scratch.path)
        defer { bench.kill() }
        #expect(bench.waitForExit(timeoutMs: 120_000) == .exited(0), "\(bench.standardError)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let rows = try #require(report["rows"] as? [[String: Any]])
        func baseline(of name: String) -> String? {
            rows.first { ($0["measurement"] as? [String: Any])?["name"] as? String == name }?["baselineName"] as? String
        }
        #expect(baseline(of: "sluice-push tiered-large-batches-r1-none") == "sluice-push large-batches-r1-none")
        #expect(baseline(of: "sluice-fetch tiered-large-batches-r1-none") == "sluice-fetch large-batches-r1-none")
    }

    /// A run says what it is doing on standard error, phase by phase, and warns when a scenario asking for two
    /// copies ran on a cluster that could place only one (its figures are for one copy).
    @Test(.enabled(if: benchIsBuilt, "sluice-bench is not built next to the test bundle"))
    func benchmarkReportsProgressAndWarnsWhenReplicasAreMissing() throws {
        let directory = try #require(BuiltExecutables.directory).path
        let cluster = try ProcessCluster(workers: 1)
        defer { cluster.shutdown() }
        let bench = try ChildProcess(
            executable: directory + "/sluice-bench",
            arguments: [
                "--master", cluster.masterEndpoint, "--scenarios", "large-batches-r2-none", "--bytes", "2m",
                "--no-mixed", "--no-local-disk-shuffle", "--no-floor-baselines", "--warmup-rounds", "0",
                "--directory", cluster.scratch.path,
            ], outputIn: cluster.scratch.path)
        defer { bench.kill() }
        #expect(bench.waitForExit(timeoutMs: 120_000) == .exited(0), "\(bench.standardError)")
        let progress = bench.standardError
        for line in ["round 1 of 1: baselines", "sluice-push large-batches-r2-none: push", "verify every byte"] {
            #expect(progress.contains(line), "\(line) in: \(progress)")
        }
        #expect(progress.contains("without a replica"), "\(progress)")
    }
}
