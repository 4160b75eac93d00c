import Foundation

/// What a soak run did and whether it passed: the totals, every kill and restart, every reading, and each
/// server's flatness. Printed as a summary and written as JSON with `--json`.
struct SoakReport: Codable, Sendable {
    var settings: SoakSettings
    var startedAt: Date
    var elapsedSeconds: Double = 0
    /// The glibc allocator settings (`MALLOC_*`) the servers inherited: they change worker RSS by a factor of 2-3
    /// (docs/performance.md, Soak run).
    var allocatorEnvironment = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("MALLOC_") }
    var totals = SoakLedger.Totals()
    var events: [SoakEvent] = []
    /// Readings with the cluster idle before the first job and after the last (every shuffle unregistered).
    var idleStart: [String: SoakReading] = [:]
    var idleEnd: [String: SoakReading] = [:]
    /// Every reading under load, by process (`master`, `worker-N`).
    var samples: [String: [SoakReading]] = [:]
    var flatness: [SoakFlatness] = []
    var failures: [String] = []

    var passed: Bool { failures.isEmpty }
    var kills: Int { events.filter { $0.kind == .kill }.count }
    var restarts: Int { events.filter { $0.kind == .restart }.count }

    init(settings: SoakSettings, startedAt: Date) {
        self.settings = settings
        self.startedAt = startedAt
    }

    /// Judges the run once the load is over and the cluster idle.
    mutating func finish(totals: SoakLedger.Totals, samples: [String: [SoakReading]], elapsedSeconds: Double) {
        self.totals = totals
        self.samples = samples
        self.elapsedSeconds = elapsedSeconds
        let first = settings.warmupSeconds...(settings.warmupSeconds + settings.windowSeconds)
        let last = (settings.loadSeconds - settings.windowSeconds)...settings.loadSeconds
        let processes = ["master"] + (0..<settings.workers).map { "worker-\($0)" }
        flatness = processes.map {
            SoakFlatness(
                process: $0, readings: samples[$0] ?? [], idleStart: idleStart[$0], idleEnd: idleEnd[$0],
                window: (first, last), settings: settings)
        }
        failures = []
        if totals.lostPairs > 0 { failures.append("\(totals.lostPairs) acknowledged (map, partition) pairs lost") }
        if totals.jobsFailed > 0 { failures.append("\(totals.jobsFailed) jobs failed") }
        if totals.jobsCompleted == 0 { failures.append("no job completed") }
        for event in events where event.kind == .restartFailed { failures.append(event.description) }
        for process in flatness { failures += process.failures.map { "\(process.process): \($0)" } }
    }

    /// One line of progress: the totals so far and each server's latest RSS and fds.
    func progressLine(at seconds: Double, totals: SoakLedger.Totals, samples: [String: [SoakReading]]) -> String {
        let servers = samples.keys.sorted().compactMap { name -> String? in
            guard let last = samples[name]?.last, last.atSeconds >= seconds - 1 else { return nil }
            let files = last.partitionFiles.map { " \($0) files" } ?? ""
            return "\(name) \(SoakFlatness.mebibytes(last.rssBytes)) \(last.fds) fds\(files)"
        }
        return String(format: "[%6.1f min] ", seconds / 60)
            + "jobs \(totals.jobsCompleted) done (\(totals.jobsRetried) retried, \(totals.jobsFailed) failed), "
            + "pushed \(Self.gibibytes(totals.bytesPushed)), read \(Self.gibibytes(totals.bytesRead)), "
            + "kills \(kills), lost pairs \(totals.lostPairs); " + servers.joined(separator: "; ")
    }

    func summaryText() -> String {
        var lines: [String] = []
        lines.append(
            "soak summary: seed \(settings.seed), \(String(format: "%.1f", settings.loadSeconds / 60)) minutes of "
                + "load (\(String(format: "%.1f", elapsedSeconds / 60)) in all), \(settings.workers) workers, "
                + "\(settings.jobs) jobs at a time, started \(ISO8601DateFormatter().string(from: startedAt)), "
                + "allocator \(allocatorText)")
        lines.append(
            "jobs: \(totals.jobsCompleted) completed, \(totals.jobsRetried) with retried tasks, "
                + "\(totals.jobsFailed) failed; map tasks retried \(totals.mapRetries), partition reads retried "
                + "\(totals.readRetries)")
        lines.append(
            "bytes: pushed \(Self.gibibytes(totals.bytesPushed)) (acknowledged, winning attempts), "
                + "read and verified \(Self.gibibytes(totals.bytesRead))")
        lines.append("workers: \(kills) kills (SIGKILL), \(restarts) restarts")
        lines.append("losses: \(totals.lostPairs) (map, partition) pairs")
        lines.append(
            "flatness: median of readings \(Int(settings.warmupSeconds))-"
                + "\(Int(settings.warmupSeconds + settings.windowSeconds)) s vs the last "
                + "\(Int(settings.windowSeconds)) s of load, readings every \(settings.sampleSeconds) s, a worker's "
                + "first \(Int(settings.steadyAgeSeconds)) s after a restart left out; tolerance RSS "
                + "+\(Int(settings.rssTolerancePercent))%, fds +\(settings.fdTolerance) (fds on live partition "
                + "files not counted); idle = before the first job / after the last")
        lines.append(Self.tableHeader)
        for process in flatness { lines.append(Self.row(process)) }
        let idle = (["master"] + (0..<settings.workers).map { "worker-\($0)" }).map { name in
            let threads =
                "\(idleStart[name]?.threads.map(String.init) ?? "-")/\(idleEnd[name]?.threads.map(String.init) ?? "-")"
            let budget = idleEnd[name]?.budgetUsedBytes.map { ", budget in use \(SoakFlatness.mebibytes($0))" } ?? ""
            return "\(name) threads \(threads)\(budget)"
        }
        lines.append("idle start/end: " + idle.joined(separator: "; "))
        for process in flatness where !process.notes.isEmpty {
            lines.append("note: \(process.process): " + process.notes.joined(separator: "; "))
        }
        for problem in totals.problems.prefix(20) { lines.append("problem: \(problem)") }
        lines.append(passed ? "RESULT: PASS" : "RESULT: FAIL\n  " + failures.joined(separator: "\n  "))
        return lines.joined(separator: "\n")
    }

    private var allocatorText: String {
        allocatorEnvironment.isEmpty
            ? "glibc defaults"
            : allocatorEnvironment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: " ")
    }

    static let tableHeader =
        "process    RSS first   RSS last  change  fds first  fds last  idle fds start/end  files first/last/end"

    static func row(_ p: SoakFlatness) -> String {
        func text(_ value: Int?) -> String { value.map(String.init) ?? "-" }
        let change = p.rssChangePercent.map { String(format: "%+.1f%%", $0) } ?? "-"
        let files = "\(text(p.firstPartitionFiles))/\(text(p.lastPartitionFiles))/\(text(p.partitionFilesAtEnd))"
        return p.process.padding(toLength: 9, withPad: " ", startingAt: 0)
            + pad(p.firstRSSBytes.map(SoakFlatness.mebibytes) ?? "-", 11)
            + pad(p.lastRSSBytes.map(SoakFlatness.mebibytes) ?? "-", 11) + pad(change, 8)
            + pad(text(p.firstFds), 11) + pad(text(p.lastFds), 10)
            + pad("\(text(p.idleFdsAtStart))/\(text(p.idleFdsAtEnd))", 20) + pad(files, 22)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(width - text.count, 1)) + text
    }

    static func gibibytes(_ bytes: Int) -> String { String(format: "%.2f GiB", Double(bytes) / 1_073_741_824) }

    func writeJSON(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }
}
