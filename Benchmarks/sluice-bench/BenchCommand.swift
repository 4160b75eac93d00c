import ArgumentParser
import CSluiceShim
import Foundation
import SluiceCore
import SluiceTestKit

/// `sluice-bench [throughput]`: Sluice throughput against same-run hardware baselines on loopback.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "throughput",
        abstract: "Push and fetch shuffle data through Sluice and compare with same-run hardware baselines.",
        discussion: """
            Without --master, starts the sluice-master and sluice-worker executables found next to sluice-bench as \
            child processes (one master, --workers workers, temporary directories) on loopback, so that worker CPU \
            and peak RSS are measured apart from the client. Each scenario (--scenarios or --suite) pushes \
            realistic records, reads every partition back and verifies every byte; push, fetch and a mixed phase \
            are measured separately. Absolute numbers swing 30-50% on shared machines: compare the ratio column, \
            which divides by a baseline measured in the same round (push by receive+append, fetch by sendfile of \
            a cached file, small-partitions push by the large-batches push). See docs/performance.md.
            """)

    @Option(help: "Total body bytes per scenario (suffixes k, m, g).")
    var bytes = ByteSize(bytes: 512 << 20)

    @Option(help: "Frame body bytes (suffixes k, m, g); a 16-byte frame header goes in front of each.")
    var messageBytes = ByteSize(bytes: 1 << 20)

    @Option(help: "Connections (one sender and one receiver thread each).")
    var connections = 2

    @Option(help: "Rounds; each round runs every scenario once, interleaved.")
    var rounds = 1

    @Option(
        help: ArgumentHelp(
            "Untimed warm-up rounds of the baselines before the measured ones.",
            discussion: "On a freshly booted VM the first touch of free memory is slow (receive+append measured 0.6 "
                + "GB/s cold vs 2.1 GB/s warm), which would skew whichever scenario runs first."))
    var warmupRounds = 1

    @Option(help: "Directory for temporary files (a fresh subdirectory is made and removed).")
    var directory = FileManager.default.temporaryDirectory.path

    @Flag(help: "fsync each received file before closing it in receive+append.")
    var fsync = false

    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    @Option(help: "Sluice master HOST:PORT; without it a cluster is started (child processes by default).")
    var master: String?

    @Flag(help: "Run the embedded cluster inside this process instead of as child processes (worker CPU and RSS n/a).")
    var inProcess = false

    @Flag(help: "Run only the hardware baselines.")
    var baselinesOnly = false

    @Option(
        help: ArgumentHelp(
            "Scenarios, comma-separated: SHAPE-rN-CODEC with SHAPE large-batches or small-partitions, N 1 or 2, "
                + "CODEC none, lz4 or zstd (e.g. large-batches-r1-none,small-partitions-r1-none). Overrides --suite."))
    var scenarios: String?

    @Option(
        help: ArgumentHelp(
            "Named scenario set: \(Scenario.suites.keys.sorted().joined(separator: ", ")).",
            discussion: "quick: large-batches-r2-lz4 (make demo). targets: the issue's ratio "
                + "targets. full: replication 1 and 2, codecs none/lz4/zstd, both shapes."))
    var suite = "quick"

    @Flag(inversion: .prefixedNo, help: "Also measure a mixed phase: a second shuffle pushed while the first is read.")
    var mixed = true

    @Flag(inversion: .prefixedNo, help: "Run the Spark-sort-shuffle-like local-disk baseline.")
    var localDiskShuffle = true

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Run the design-floor baselines copy+crc+append and sendfile+crc.",
            discussion: "receive+append and sendfile-cached plus the copy into 256 KiB batches and "
                + "the CRC32C of every batch that Sluice cannot skip: their ratios are the most a "
                + "design that copies and checksums can reach on this machine."))
    var floorBaselines = true

    @Option(help: "Map tasks of large-batches scenarios (each writes --bytes / --mappers).")
    var mappers = 8

    @Option(help: "Partitions of large-batches scenarios.")
    var partitions = 64

    @Option(help: "Map tasks of small-partitions scenarios (the issue's figure is 200).")
    var smallMappers = 100

    @Option(help: "Partitions of small-partitions scenarios (the issue's figure is 10000).")
    var smallPartitions = 2_000

    @Option(help: "Bytes each map task writes to each partition in small-partitions scenarios.")
    var smallBlockBytes = ByteSize(bytes: 4 << 10)

    @Option(help: "Workers in the started cluster.")
    var workers = 2

    @Option(help: "Each started worker's --memory-budget (suffixes k, m, g); its peak RSS is compared with it.")
    var memoryBudget = ByteSize(bytes: 512 << 20)

    @Option(help: "Seconds one scenario (all its phases) may take before the run is aborted with exit status 3.")
    var scenarioTimeout = 900

    @Option(
        help: ArgumentHelp(
            "Capacity of the nvme and of the ebs tier of each worker in tiered scenarios (suffixes k, m, g); 0: an "
                + "eighth of --bytes per worker.",
            discussion: "Tiered scenarios (tiered-SHAPE-rN-CODEC, --suite tiers) run on a second cluster whose "
                + "workers have three tiers on this machine's disk: nvme and ebs of this capacity, fsx for the "
                + "rest. They are compared with the same scenario on one-tier workers in the same round."))
    var tierCapacity = ByteSize(bytes: 0)

    static let maxMessageBytes = 64 << 20
    static let maxTotalBytes = 32 << 30

    func validate() throws {
        guard (1...Self.maxTotalBytes).contains(bytes.bytes) else {
            throw ValidationError(
                "--bytes must be between 1 and \(ByteSize(bytes: Self.maxTotalBytes)) (files of that size are written)")
        }
        guard (1...Self.maxMessageBytes).contains(messageBytes.bytes) else {
            throw ValidationError("--message-bytes must be between 1 and \(ByteSize(bytes: Self.maxMessageBytes))")
        }
        guard (1...64).contains(connections) else { throw ValidationError("--connections must be 1...64") }
        guard (1...20).contains(rounds) else { throw ValidationError("--rounds must be 1...20") }
        guard (0...5).contains(warmupRounds) else { throw ValidationError("--warmup-rounds must be 0...5") }
        guard messageBytes.bytes <= bytes.bytes / connections else {
            throw ValidationError("--message-bytes must be at most --bytes / --connections")
        }
        guard (1...10_000).contains(mappers), (1...100_000).contains(partitions) else {
            throw ValidationError("--mappers must be 1...10000 and --partitions 1...100000")
        }
        guard bytes.bytes / mappers >= 1 else { throw ValidationError("--bytes must be at least --mappers") }
        guard (1...10_000).contains(smallMappers), (1...100_000).contains(smallPartitions) else {
            throw ValidationError("--small-mappers must be 1...10000 and --small-partitions 1...100000")
        }
        guard (1...(1 << 20)).contains(smallBlockBytes.bytes) else {
            throw ValidationError("--small-block-bytes must be 1...1m")
        }
        let (smallTotal, overflow) = (smallMappers * smallPartitions).multipliedReportingOverflow(
            by: smallBlockBytes.bytes)
        guard !overflow, smallTotal <= Self.maxTotalBytes else {
            throw ValidationError(
                "--small-mappers x --small-partitions x --small-block-bytes must be at most "
                    + "\(ByteSize(bytes: Self.maxTotalBytes))")
        }
        guard (10...86_400).contains(scenarioTimeout) else {
            throw ValidationError("--scenario-timeout must be 10...86400")
        }
        guard (1...16).contains(workers) else { throw ValidationError("--workers must be 1...16") }
        guard memoryBudget.bytes >= 16 << 20 else { throw ValidationError("--memory-budget must be at least 16m") }
        let selected = try selectedScenarios()
        if selected.contains(where: \.tiered), master != nil || inProcess {
            throw ValidationError("tiered scenarios need the started child-process cluster (no --master, --in-process)")
        }
        if master == nil, !baselinesOnly, let scenario = selected.first(where: { $0.replicas > workers }) {
            throw ValidationError("scenario \(scenario) needs at least \(scenario.replicas) workers (--workers)")
        }
        if let master {
            guard let (_, port) = EndpointText.parse(master), port > 0 else {
                throw ValidationError("--master must be HOST:PORT or [IPV6]:PORT, got '\(master)'")
            }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--directory '\(directory)' is not a directory")
        }
    }

    /// The scenarios of --scenarios, else of --suite, ordered so that large-batch pushes come first.
    func selectedScenarios() throws -> [Scenario] {
        if let scenarios {
            var parsed: [Scenario] = []
            for name in scenarios.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let scenario = Scenario(name: name) else {
                    throw ValidationError("--scenarios: '\(name)' is not SHAPE-rN-CODEC (e.g. large-batches-r1-none)")
                }
                parsed.append(scenario)
            }
            guard !parsed.isEmpty else { throw ValidationError("--scenarios is empty") }
            return Scenario.ordered(parsed)
        }
        guard let set = Scenario.suites[suite] else {
            throw ValidationError("--suite must be one of \(Scenario.suites.keys.sorted().joined(separator: ", "))")
        }
        return Scenario.ordered(set)
    }

    private var largeShape: Report.Parameters.Shape {
        .init(mappers: mappers, partitions: partitions, bytesPerBlock: bytes.bytes / mappers / partitions)
    }

    private var smallShape: Report.Parameters.Shape {
        .init(mappers: smallMappers, partitions: smallPartitions, bytesPerBlock: smallBlockBytes.bytes)
    }

    /// `sluice-bench-PID-MILLISECONDS`: unique per run on one machine, and readable in the servers' logs.
    static func runApplicationId() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return "sluice-bench-\(getpid())-\(Int(now.tv_sec) * 1_000 + now.tv_nsec / 1_000_000)"
    }

    func run() throws {
        let log = RunLog()
        sluice_ignore_sigpipe()
        ChildRegistry.shared.installSignalHandlers()
        let selected = baselinesOnly ? [] : try selectedScenarios()
        var parameters = Report.Parameters(
            totalBytes: bytes.bytes, messageBytes: messageBytes.bytes,
            connections: connections, rounds: rounds, warmupRounds: warmupRounds)
        parameters.scenarios = selected.map(\.description)
        parameters.mixedPhase = mixed
        parameters.workers = workers
        if selected.contains(where: { $0.shape == .largeBatches }) || localDiskShuffle {
            parameters.largeBatches = largeShape
        }
        if selected.contains(where: { $0.shape == .smallPartitions }) { parameters.smallPartitions = smallShape }
        var report = Report(parameters: parameters)
        if warmupRounds > 0 {
            log.progress("\(warmupRounds) warm-up round(s) of the baselines")
            var discarded = report
            for _ in 0..<warmupRounds { try runBaselines(round: 0, scenarios: [], into: &discarded) }
            report.notes.append(
                "\(warmupRounds) untimed warm-up round(s) of the baselines ran first and are not shown.")
        }
        var children: ProcessCluster?
        defer { children?.stopForBench() }
        var tieredChildren: ProcessCluster?
        defer { tieredChildren?.stopForBench() }
        let tiers = TieredWorkers(
            tierCapacityBytes: tierCapacity.bytes > 0 ? tierCapacity.bytes : max(bytes.bytes / 8 / workers, 1 << 20))
        var embedded: MiniCluster?
        defer { embedded?.shutdown() }
        var endpoint = master
        if let master {
            report.parameters.cluster = "remote \(master)"
            report.notes.append("Sluice: remote cluster at \(master); worker CPU and RSS are n/a.")
        } else if !selected.isEmpty {
            if inProcess {
                embedded = try BenchClusters.startInProcess(
                    workerCount: workers, directory: directory,
                    memoryBudgetBytes: memoryBudget.bytes)
                endpoint = embedded?.masterEndpoint
                report.parameters.cluster = "in-process"
                report.notes.append(
                    "Sluice: in-process cluster of 1 master and \(workers) workers; client CPU "
                        + "includes the servers, worker CPU and RSS are n/a.")
            } else {
                children = try BenchClusters.startChildProcesses(
                    workerCount: workers, directory: directory,
                    memoryBudgetBytes: memoryBudget.bytes)
                endpoint = children?.masterEndpoint
                report.parameters.cluster = "child-processes"
                report.notes.append(
                    "Sluice: 1 master and \(workers) workers as child processes on 127.0.0.1, "
                        + "--memory-budget \(memoryBudget) each; worker CPU is summed over workers, "
                        + "RSS is the largest worker's peak (VmHWM, reset per phase).")
            }
            if selected.contains(where: \.tiered) {
                tieredChildren = try BenchClusters.startChildProcesses(
                    workerCount: workers, directory: directory, memoryBudgetBytes: memoryBudget.bytes, tiers: tiers)
                report.notes.append(
                    "Tiered scenarios: a second cluster of \(workers) workers, each with --tiers "
                        + "'\(tiers.tiersValue(storage: "STORAGE"))' on the same disk; their ratios divide by the same "
                        + "scenario on one-tier workers in the same round.")
            }
            report.parameters.memoryBudgetBytes = memoryBudget.bytes
            report.notes.append(
                "Every pushed byte is read back and verified (length and CRC32C per map and "
                    + "partition) in an untimed pass after the fetch phase; the timed fetch checks "
                    + "byte counts, the reader checks CRC32C per batch.")
        }
        // Each run is its own application: a second run against the same cluster must not reuse shuffle ids that
        // the master and workers still remember as deleted (for master.deletedShuffleRetention).
        let applicationId = Self.runApplicationId()
        for round in 1...rounds {
            log.progress("round \(round) of \(rounds): baselines")
            try runBaselines(round: round, scenarios: selected, into: &report)
            guard let endpoint else { continue }
            for (index, scenario) in selected.enumerated() {
                let shape = scenario.shape == .largeBatches ? largeShape : smallShape
                let large = scenario.shape == .largeBatches
                let cluster = scenario.tiered ? tieredChildren : children
                let workload = SluiceWorkload(
                    masterEndpoint: (scenario.tiered ? tieredChildren?.masterEndpoint : nil) ?? endpoint,
                    applicationId: applicationId, scenario: scenario, mappers: shape.mappers,
                    partitions: shape.partitions,
                    bytesPerMap: large ? bytes.bytes / mappers : smallPartitions * smallBlockBytes.bytes,
                    writeSliceBytes: large ? 32 << 10 : smallBlockBytes.bytes, threads: connections,
                    pushBytes: messageBytes.bytes, mixed: mixed,
                    meter: cluster?.meter(memoryBudgetBytes: memoryBudget.bytes, tiers: scenario.tiered ? tiers : nil),
                    log: log)
                let watchdog = Watchdog(limitSeconds: scenarioTimeout, what: "scenario \(scenario) of round \(round)")
                defer { watchdog.cancel() }
                let phases = try workload.run(shuffleId: UInt32(round * 1_000 + index * 2))
                for (phaseIndex, phase) in phases.enumerated() {
                    func measuredThisRound(_ name: String) -> Bool {
                        report.rows.contains { $0.round == round && $0.measurement.name == name }
                    }
                    let baseline: String? =
                        switch phaseIndex {
                        case 0:
                            measuredThisRound(scenario.pushBaseline)
                                ? scenario.pushBaseline : Baselines.receiveAndAppendName
                        case 1:
                            measuredThisRound(scenario.fetchBaseline) ? scenario.fetchBaseline : Baselines.sendfileName
                        default: nil
                        }
                    report.add(
                        phase.measurement, round: round, comparedTo: baseline, server: phase.server,
                        pushLatency: phase.pushLatency)
                }
            }
        }
        report.notes += log.allWarnings.map { "Warning: " + $0 }
        print(report.table())
        print(report.summaryText())
        if let json {
            try report.writeJSON(to: json)
            print("JSON report written to \(json)")
        }
    }

    private func runBaselines(round: Int, scenarios: [Scenario], into report: inout Report) throws {
        report.add(
            try Baselines.rawLoopbackTCP(
                totalBytes: bytes.bytes, messageBytes: messageBytes.bytes, connections: connections), round: round)
        report.add(
            try Baselines.receiveAndAppend(
                totalBytes: bytes.bytes, messageBytes: messageBytes.bytes, connections: connections,
                directory: directory, fsync: fsync), round: round, comparedTo: Baselines.loopbackName)
        report.add(
            try Baselines.sendfileCached(
                totalBytes: bytes.bytes, connections: connections, directory: directory),
            round: round, comparedTo: Baselines.loopbackName)
        if floorBaselines {
            report.add(
                try Baselines.copyChecksumAppend(
                    totalBytes: bytes.bytes, messageBytes: messageBytes.bytes, connections: connections,
                    directory: directory), round: round, comparedTo: Baselines.receiveAndAppendName)
            report.add(
                try Baselines.sendfileChecksum(
                    totalBytes: bytes.bytes, connections: connections, directory: directory),
                round: round, comparedTo: Baselines.sendfileName)
        }
        guard localDiskShuffle, round > 0 else { return }
        var shapes: [(Report.Parameters.Shape, String)] = [(largeShape, "")]
        if scenarios.contains(where: { $0.shape == .smallPartitions }) {
            shapes.append((smallShape, " small-partitions"))
        }
        for (shape, suffix) in shapes where shape.bytesPerBlock > 0 {
            let result = try LocalDiskShuffle.run(
                mappers: shape.mappers, partitions: shape.partitions,
                bytesPerBlock: shape.bytesPerBlock, threads: connections,
                directory: directory, suffix: suffix)
            report.add(result.write, round: round, comparedTo: Baselines.receiveAndAppendName)
            report.add(result.read, round: round, comparedTo: Baselines.sendfileName)
        }
    }
}
