import ArgumentParser
import CSluiceShim
import Foundation

/// `sluice-bench`: Sluice throughput against same-run hardware baselines on loopback.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-bench",
        abstract: "Measure loopback hardware baselines (and, later, Sluice scenarios) and print ratios.",
        discussion: """
            Absolute numbers swing 30-50% on shared machines: compare the ratio column, which divides by a \
            baseline measured in the same round. Sluice scenarios (push, fetch against --master) are not wired yet; \
            today only the baselines run.
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

    @Option(help: "Sluice master HOST:PORT for the Sluice scenarios (not yet: Sluice scenarios are not wired).")
    var master: String?

    @Flag(help: "Run only the hardware baselines (today the only thing that runs).")
    var baselinesOnly = false

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
        let runSluice = !baselinesOnly && !SluiceScenarios.all.isEmpty
        if !baselinesOnly {
            report.notes.append("Sluice scenarios: not wired yet (see SluiceScenario.swift); only hardware baselines"
                                + " were measured" + (master == nil ? "." : ", --master \(master ?? "") ignored."))
        }
        if runSluice, master == nil { throw ValidationError("Sluice scenarios need --master HOST:PORT") }
        if warmupRounds > 0 {
            var discarded = report
            for _ in 0..<warmupRounds { try runBaselines(round: 0, into: &discarded) }
            report.notes.append("\(warmupRounds) untimed warm-up round(s) of the baselines ran first and are not shown.")
        }
        for round in 1...rounds {
            try runBaselines(round: round, into: &report)
            if runSluice, let master {
                for scenario in SluiceScenarios.all {
                    report.add(try scenario.run(master: master, totalBytes: bytes.bytes,
                                                messageBytes: messageBytes.bytes, connections: connections),
                               round: round, comparedTo: scenario.baselineName)
                }
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
