import ArgumentParser
import CSluiceShim
import Foundation
import SluiceCore
import SluiceSystem

/// `sluice-bench soak`: concurrent Spark-like jobs against a child-process cluster while workers are killed and
/// restarted; fails on any loss, on a server whose RSS or fds grow, or on files left behind. Not run by `make test`.
struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run Spark-like jobs for a long time while workers are killed and restarted; check nothing is lost.",
        discussion: """
            Starts sluice-master and --workers sluice-worker processes (replication on). --jobs jobs run at a \
            time, each: register a shuffle of 4-12 maps and 24-300 partitions (seeded), write every map on \
            --map-threads threads (a map whose writer fails is retried as a new attempt, up to 4), read every \
            partition back on --read-threads threads checking every (map, partition) pair's length and CRC32C, \
            unregister. Meanwhile a random worker is killed with SIGKILL at seeded intervals and restarted with \
            the same id and storage after a seeded delay; one worker at most is down at a time. Every \
            --sample-seconds the master's and each worker's RSS, open fds and storage files are read. Exits 1 \
            on any lost pair, failed job, growth past the tolerances or file left behind. See docs/performance.md.
            """)

    @Option(help: "Minutes of load.")
    var minutes: Double = 30

    @Option(help: "Seed of the job shapes, the records, the victims and the kill timing.")
    var seed: UInt64 = 1

    @Option(help: "Worker processes (at least 3: one down still leaves two for a replicated revive).")
    var workers = 3

    @Option(help: "Jobs running at a time.")
    var jobs = 3

    @Option(help: "Map tasks running at a time in each job.")
    var mapThreads = 2

    @Option(help: "Partition reads running at a time in each job.")
    var readThreads = 2

    @Option(help: "Shortest seconds from a worker's restart to the next kill.")
    var killIntervalMin = 60

    @Option(help: "Longest seconds from a worker's restart to the next kill.")
    var killIntervalMax = 180

    @Option(help: "Shortest seconds a killed worker stays down.")
    var restartDelayMin = 1

    @Option(help: "Longest seconds a killed worker stays down.")
    var restartDelayMax = 5

    @Option(help: "Seconds between readings of the servers' RSS, fds and files.")
    var sampleSeconds = 30

    @Option(help: "Allowed growth of a server's median RSS from the first window to the last, in percent.")
    var rssTolerance: Double = 20

    @Option(help: "Allowed growth of a server's median open fds (those not on live partition files).")
    var fdTolerance = 16

    @Option(help: "Each worker's --memory-budget (suffixes k, m, g).")
    var memoryBudget = ByteSize(bytes: 256 << 20)

    @Option(help: "Seconds one job may take before the run is aborted with exit status 3 (a stall).")
    var jobTimeout = 600

    @Option(help: "Directory for the cluster's storage (a fresh subdirectory is made and removed).")
    var directory = FileManager.default.temporaryDirectory.path

    @Option(help: "Write the report (summary, every reading, every kill) as JSON to this file.")
    var json: String?

    func validate() throws {
        guard minutes >= 0.5, minutes <= 24 * 60 else { throw ValidationError("--minutes must be 0.5...1440") }
        guard (3...16).contains(workers) else { throw ValidationError("--workers must be 3...16") }
        guard (1...16).contains(jobs), (1...16).contains(mapThreads), (1...16).contains(readThreads) else {
            throw ValidationError("--jobs, --map-threads and --read-threads must be 1...16")
        }
        guard 5 <= killIntervalMin, killIntervalMin <= killIntervalMax else {
            throw ValidationError("--kill-interval-min must be at least 5 and at most --kill-interval-max")
        }
        guard 0 <= restartDelayMin, restartDelayMin <= restartDelayMax, restartDelayMax <= 600 else {
            throw ValidationError("--restart-delay-min must be 0...--restart-delay-max, and that at most 600")
        }
        guard (1...3_600).contains(sampleSeconds) else { throw ValidationError("--sample-seconds must be 1...3600") }
        guard rssTolerance >= 0, fdTolerance >= 0 else { throw ValidationError("tolerances must not be negative") }
        guard memoryBudget.bytes >= 16 << 20 else { throw ValidationError("--memory-budget must be at least 16m") }
        guard (10...86_400).contains(jobTimeout) else { throw ValidationError("--job-timeout must be 10...86400") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--directory '\(directory)' is not a directory")
        }
    }

    var settings: SoakSettings {
        let loadSeconds = minutes * 60
        let warmup = min(120, loadSeconds / 4)
        return SoakSettings(
            seed: seed, loadSeconds: loadSeconds, workers: workers, jobs: jobs, mapThreads: mapThreads,
            readThreads: readThreads, killIntervalSeconds: killIntervalMin...killIntervalMax,
            restartDelaySeconds: restartDelayMin...restartDelayMax, sampleSeconds: sampleSeconds,
            warmupSeconds: warmup, windowSeconds: min(300, (loadSeconds - warmup) / 2),
            rssTolerancePercent: rssTolerance, fdTolerance: fdTolerance, memoryBudgetBytes: memoryBudget.bytes,
            jobTimeoutSeconds: jobTimeout)
    }

    func run() throws {
        sluice_ignore_sigpipe()
        // The client logs each connection a kill breaks (info): expected here, and thousands in a long run.
        ProcessOutput.bootstrapLogging(level: .warning)
        ChildRegistry.shared.installSignalHandlers()
        let report = try SoakRun(settings: settings, directory: directory).run()
        say(report.summaryText())
        if let json {
            try report.writeJSON(to: json)
            say("JSON report written to \(json)")
        }
        guard report.passed else { throw ExitCode(1) }
    }
}

/// The soak's parameters, as the report records them.
struct SoakSettings: Codable, Sendable {
    var seed: UInt64
    var loadSeconds: Double
    var workers: Int
    var jobs: Int
    var mapThreads: Int
    var readThreads: Int
    var killIntervalSeconds: ClosedRange<Int>
    var restartDelaySeconds: ClosedRange<Int>
    var sampleSeconds: Int
    /// Readings before this are not compared (caches and pools filling).
    var warmupSeconds: Double
    /// The first window is `warmupSeconds` to `warmupSeconds + windowSeconds`; the last ends with the load.
    var windowSeconds: Double
    var rssTolerancePercent: Double
    var fdTolerance: Int
    var memoryBudgetBytes: Int
    var jobTimeoutSeconds: Int
    /// A worker's readings count once it has run this long since its (re)start: a new worker's RSS climbs for a
    /// minute or two while its memory budget and flush-buffer pool fill (2-minute runs: about 100 MiB after a
    /// restart, 200-280 MiB a minute or two later with a 256 MiB budget).
    var steadyAgeSeconds: Double = 120
}
