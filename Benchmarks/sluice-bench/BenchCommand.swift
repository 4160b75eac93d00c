import ArgumentParser
import CSluiceShim
import Foundation
import SluiceCore

/// `sluice-bench`: Sluice throughput against same-run hardware baselines on loopback.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-bench",
        abstract: "Push and fetch shuffle data through Sluice and compare with same-run hardware baselines.",
        discussion: """
            Without --master, starts an embedded cluster (one master, two workers, temporary directories) on \
            loopback. Mappers push --bytes of realistic records into --partitions partitions (replicated unless \
            --no-replicate); reducers read every partition back and verify every byte. Absolute numbers swing \
            30-50% on shared machines: compare the ratio column, which divides by a baseline measured in the \
            same round (push by receive+append, fetch by sendfile of a cached file).
            """)

    @Option(help: "Total body bytes per scenario (suffixes k, m, g).")
    var bytes = ByteSize(bytes: 1 << 30)

    @Option(help: "Frame body bytes (suffixes k, m, g); a 16-byte frame header goes in front of each.")
    var messageBytes = ByteSize(bytes: 1 << 20)

    @Option(help: "Connections (one sender and one receiver thread each).")
    var connections = 2

    @Option(help: "Rounds; each round runs every scenario once, interleaved.")
    var rounds = 1

    @Option(help: ArgumentHelp(
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

    @Option(help: "Sluice master HOST:PORT; without it an embedded cluster is started.")
    var master: String?

    @Flag(help: "Run only the hardware baselines.")
    var baselinesOnly = false

    @Option(help: "Map tasks in the Sluice scenario.")
    var mappers = 8

    @Option(help: "Partitions in the Sluice scenario.")
    var partitions = 64

    @Option(help: "Codec of pushed batches: none, lz4 or zstd.")
    var codec = "lz4"

    @Flag(inversion: .prefixedNo, help: "Replicate every partition to a second worker.")
    var replicate = true

    @Option(help: "Workers in the embedded cluster.")
    var workers = 2

    static let maxMessageBytes = 64 << 20
    static let maxTotalBytes = 32 << 30

    func validate() throws {
        guard (1...Self.maxTotalBytes).contains(bytes.bytes) else {
            throw ValidationError("--bytes must be between 1 and \(ByteSize(bytes: Self.maxTotalBytes)) (files of that size are written)")
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
        guard Codec(name: codec) != nil else { throw ValidationError("--codec must be none, lz4 or zstd") }
        guard (1...10_000).contains(mappers), (1...100_000).contains(partitions) else {
            throw ValidationError("--mappers must be 1...10000 and --partitions 1...100000")
        }
        guard (1...16).contains(workers) else { throw ValidationError("--workers must be 1...16") }
        if let master {
            let parts = master.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let port = UInt16(parts[1]), port > 0 else {
                throw ValidationError("--master must be HOST:PORT, got '\(master)'")
            }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--directory '\(directory)' is not a directory")
        }
    }

    func run() throws {
        sluice_ignore_sigpipe()
        var report = Report(parameters: .init(totalBytes: bytes.bytes, messageBytes: messageBytes.bytes,
                                              connections: connections, rounds: rounds,
                                              warmupRounds: warmupRounds))
        if warmupRounds > 0 {
            var discarded = report
            for _ in 0..<warmupRounds { try runBaselines(round: 0, into: &discarded) }
            report.notes.append("\(warmupRounds) untimed warm-up round(s) of the baselines ran first and are not shown.")
        }
        var cluster: EmbeddedCluster?
        defer { cluster?.shutdown() }
        var endpoint = master
        if !baselinesOnly && master == nil {
            cluster = try EmbeddedCluster(workerCount: workers, directory: directory, memoryBudgetBytes: 1 << 30)
            endpoint = cluster?.masterEndpoint
            report.notes.append("Sluice: embedded cluster of 1 master and \(workers) workers on 127.0.0.1, "
                                + "\(mappers) mappers x \(partitions) partitions, every byte read back and verified.")
        }
        for round in 1...rounds {
            try runBaselines(round: round, into: &report)
            if let endpoint, !baselinesOnly {
                let workload = SluiceWorkload(masterEndpoint: endpoint, totalBytes: bytes.bytes, mappers: mappers,
                                              partitions: partitions, threads: connections,
                                              codec: Codec(name: codec) ?? .lz4, replicate: replicate,
                                              pushBytes: messageBytes.bytes)
                let result = try workload.run(shuffleId: UInt32(round))
                report.add(result.push, round: round, comparedTo: Baselines.receiveAndAppendName)
                report.add(result.fetch, round: round, comparedTo: Baselines.sendfileName)
            }
        }
        print(report.table())
        if let json {
            try report.writeJSON(to: json)
            print("JSON report written to \(json)")
        }
    }

    private func runBaselines(round: Int, into report: inout Report) throws {
        report.add(try Baselines.rawLoopbackTCP(
            totalBytes: bytes.bytes, messageBytes: messageBytes.bytes, connections: connections), round: round)
        report.add(try Baselines.receiveAndAppend(
            totalBytes: bytes.bytes, messageBytes: messageBytes.bytes, connections: connections,
            directory: directory, fsync: fsync), round: round, comparedTo: Baselines.loopbackName)
        report.add(try Baselines.sendfileCached(
            totalBytes: bytes.bytes, connections: connections, directory: directory),
            round: round, comparedTo: Baselines.loopbackName)
    }
}
