import Foundation

/// A measured value divided by the same quantity of a baseline measured in the same run.
struct Ratio: Codable, Sendable {
    let value: Double
    let baseline: Double

    /// `value / baseline`; nil when the baseline is not positive.
    var ratio: Double? { baseline > 0 ? value / baseline : nil }
}

/// One table row: a measurement and, when it has one, its throughput ratio against a named baseline.
struct ReportRow: Codable, Sendable {
    /// 1-based round of an interleaved run (baselines and scenarios alternate round by round).
    let round: Int
    let measurement: Measurement
    /// Name of the measurement this row is compared with, or nil for none.
    let baselineName: String?
    /// Throughput (GB/s) of this row over the baseline's; nil when there is no baseline.
    let throughputRatio: Ratio?
    /// Worker CPU and peak RSS during this row's phase (Sluice rows of a child-process cluster; nil otherwise).
    var server: ServerMetrics?
    /// Push latency (send to acknowledgement) during this row's phase, for push phases.
    var pushLatency: LatencySummary?

    /// Worker CPU seconds per GB of payload.
    var workerCPUSecondsPerGigabyte: Double? {
        guard let cpu = server?.workerCPUSeconds, measurement.bytes > 0 else { return nil }
        return cpu / (Double(measurement.bytes) / 1e9)
    }
}

/// The median of one row's ratio across rounds, with the issue's target when it has one.
struct RatioSummary: Codable, Sendable {
    let name: String
    let baselineName: String
    let ratios: [Double]
    let median: Double
    /// The row's median GB/s over the baseline's BEST GB/s in any measured round: strict, since noise on these
    /// machines (a hypervisor faulting memory back in, write-back) only ever slows a measurement down, and a
    /// baseline that lost a round to it would flatter the same-round ratio. Targets are judged on this.
    let strictRatio: Double?
    let target: Double?
    /// Largest worker peak RSS over budget across rounds.
    let maxRSSOverBudget: Double?
}

/// The results of one benchmark run: printed as a terminal table and optionally written as JSON.
struct Report: Codable, Sendable {
    /// The run's parameters, for the JSON record.
    struct Parameters: Codable, Sendable {
        let totalBytes: Int
        let messageBytes: Int
        let connections: Int
        let rounds: Int
        let warmupRounds: Int
        /// Scenario names in run order, e.g. `large-batches-r2-lz4`.
        var scenarios: [String] = []
        /// `child-processes`, `in-process` or `remote HOST:PORT`.
        var cluster = "none"
        var workers = 0
        /// Each worker's `--memory-budget` (child-process cluster only).
        var memoryBudgetBytes: Int?
        var largeBatches: Shape?
        var smallPartitions: Shape?
        var mixedPhase = false

        /// Mappers x partitions and bytes of each (map, partition) pair's output.
        struct Shape: Codable, Sendable {
            let mappers: Int
            let partitions: Int
            let bytesPerBlock: Int
        }
    }

    var parameters: Parameters
    let hostname: String
    let startedAt: Date
    private(set) var rows: [ReportRow] = []
    /// Lines printed under the table (e.g. that Sluice scenarios are not wired yet).
    var notes: [String] = []
    /// Median ratios across rounds (filled when the JSON is written).
    var medianRatios: [RatioSummary] = []
    /// Sluice rows against the design-floor baselines (filled when the JSON is written).
    var floorRatios: [RatioSummary] = []

    init(parameters: Parameters) {
        self.parameters = parameters
        hostname = ProcessInfo.processInfo.hostName
        startedAt = Date()
    }

    /// Adds a measurement; with `baselineName`, also its throughput ratio against the row of that name in the
    /// same round (no ratio if there is none).
    mutating func add(
        _ measurement: Measurement, round: Int, comparedTo baselineName: String? = nil,
        server: ServerMetrics? = nil, pushLatency: LatencySummary? = nil
    ) {
        let baseline = rows.last { $0.round == round && $0.measurement.name == baselineName }?.measurement
        let ratio = baseline.map { Ratio(value: measurement.gigabytesPerSecond, baseline: $0.gigabytesPerSecond) }
        rows.append(
            ReportRow(
                round: round, measurement: measurement, baselineName: baseline == nil ? nil : baselineName,
                throughputRatio: ratio, server: server, pushLatency: pushLatency))
    }

    /// Ratio targets of issue 5, by row name (the RSS target, <= 1.25 x budget, applies to every Sluice row).
    static let targets: [String: Double] = [
        Scenario(shape: .largeBatches, replicas: 1, codec: .none).pushName: 0.8,
        Scenario(shape: .largeBatches, replicas: 1, codec: .none).fetchName: 0.9,
        Scenario(shape: .largeBatches, replicas: 2, codec: .none).pushName: 0.45,
        Scenario(shape: .smallPartitions, replicas: 1, codec: .none).pushName: 0.5,
    ]
    static let rssTarget = 1.25

    /// The median ratio of every row name that has a ratio, across the measured rounds, in first-seen order.
    var summaries: [RatioSummary] {
        var order: [String] = []
        var grouped: [String: [ReportRow]] = [:]
        for row in rows where row.round > 0 && row.throughputRatio?.ratio != nil {
            if grouped[row.measurement.name] == nil { order.append(row.measurement.name) }
            grouped[row.measurement.name, default: []].append(row)
        }
        return order.compactMap { name in
            guard let group = grouped[name], let baseline = group.first?.baselineName else { return nil }
            let ratios = group.compactMap { $0.throughputRatio?.ratio }
            let bestBaseline = rows.filter { $0.round > 0 && $0.measurement.name == baseline }
                .map(\.measurement.gigabytesPerSecond).max()
            let rowMedian = Self.median(group.map(\.measurement.gigabytesPerSecond))
            let strict = bestBaseline.flatMap { $0 > 0 ? rowMedian / $0 : nil }
            let rss = rows.filter { $0.measurement.name == name }.compactMap { $0.server?.rssOverBudget }.max()
            return RatioSummary(
                name: name, baselineName: baseline, ratios: ratios, median: Self.median(ratios),
                strictRatio: strict, target: Self.targets[name], maxRSSOverBudget: rss)
        }
    }

    /// The design-floor baseline of each baseline: the same transfer plus the copy and checksums Sluice must do.
    static let floors = [
        Baselines.receiveAndAppendName: Baselines.copyChecksumAppendName,
        Baselines.sendfileName: Baselines.sendfileChecksumName,
    ]

    /// Every Sluice row compared with a baseline that has a design floor, against that floor: same-round median
    /// and strict (median GB/s over the floor's best round). No targets: this says how much of the gap to the
    /// baseline is the design's own work and how much is the implementation's.
    var floorSummaries: [RatioSummary] {
        summaries.compactMap { summary in
            guard summary.name.hasPrefix("sluice-"), let floor = Self.floors[summary.baselineName] else { return nil }
            let floorRows = rows.filter { $0.round > 0 && $0.measurement.name == floor }
            guard let best = floorRows.map(\.measurement.gigabytesPerSecond).max(), best > 0 else { return nil }
            let own = rows.filter { $0.round > 0 && $0.measurement.name == summary.name }
            let ratios = own.compactMap { row -> Double? in
                guard let base = floorRows.first(where: { $0.round == row.round })?.measurement.gigabytesPerSecond,
                    base > 0
                else { return nil }
                return row.measurement.gigabytesPerSecond / base
            }
            let rowMedian = Self.median(own.map(\.measurement.gigabytesPerSecond))
            return RatioSummary(
                name: summary.name, baselineName: floor, ratios: ratios, median: Self.median(ratios),
                strictRatio: rowMedian / best, target: nil, maxRSSOverBudget: nil)
        }
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Lines under the table: per row, the median same-round ratio across rounds, the strict ratio (median GB/s
    /// over the baseline's best round) and, where the issue sets one, the target judged on the strict ratio.
    func summaryText() -> String {
        var lines = [
            "Median ratio across \(parameters.rounds) round(s) (same round; strict = median GB/s over the "
                + "baseline's best round):"
        ]
        for summary in summaries {
            var line = "  " + summary.name + ": " + format(summary.median, 2) + " x " + summary.baselineName
            if let strict = summary.strictRatio { line += ", strict " + format(strict, 2) }
            if let target = summary.target {
                let judged = summary.strictRatio ?? summary.median
                line += " (target >= \(format(target, 2)): \(judged >= target ? "met" : "NOT met"))"
            }
            if let rss = summary.maxRSSOverBudget {
                line +=
                    ", peak RSS " + format(rss, 2) + " x budget"
                    + (rss <= Self.rssTarget ? "" : " (above \(format(Self.rssTarget, 2)))")
            }
            lines.append(line)
        }
        let floors = floorSummaries
        if !floors.isEmpty {
            lines.append(
                "Against the design floor (the baseline plus the copy into batches and CRC32C Sluice must do):")
            for summary in floors {
                lines.append(
                    "  " + summary.name + ": " + format(summary.median, 2) + " x " + summary.baselineName
                        + ", strict " + format(summary.strictRatio ?? 0, 2))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A fixed-width table: round, scenario, connections, GB, seconds, GB/s, client and worker CPU s/GB, push
    /// latency p50/p99 (µs), worker peak RSS (MiB) and its ratio to the memory budget, ratio vs baseline.
    func table() -> String {
        let header = [
            "round", "scenario", "conns", "GB", "s", "GB/s", "client CPU s/GB", "worker CPU s/GB",
            "push p50 us", "push p99 us", "worker RSS MiB", "RSS/budget", "ratio vs baseline",
        ]
        var lines = [header]
        for row in rows {
            let m = row.measurement
            var ratioText = "-"
            if let name = row.baselineName, let value = row.throughputRatio?.ratio {
                ratioText = format(value, 2) + " x " + name
            }
            let sluiceRow = row.server != nil
            func orNA(_ value: Double?, _ decimals: Int) -> String {
                value.map { format($0, decimals) } ?? (sluiceRow ? "n/a" : "-")
            }
            let rss = row.server?.workerPeakRSSBytes.map { Double($0) / Double(1 << 20) }
            lines.append([
                "\(row.round)", m.name, "\(m.connections)", format(Double(m.bytes) / 1e9, 2),
                format(m.seconds, 3), format(m.gigabytesPerSecond, 2), format(m.cpuSecondsPerGigabyte, 3),
                orNA(row.workerCPUSecondsPerGigabyte, 3),
                row.pushLatency.map { "\($0.p50Micros)" } ?? "-",
                row.pushLatency.map { "\($0.p99Micros)" } ?? "-",
                orNA(rss, 0), orNA(row.server?.rssOverBudget, 2), ratioText,
            ])
        }
        let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        let rendered = lines.map { cells in
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                if column == cells.count - 1 { return cell }
                return column == 1 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return (rendered + notes).joined(separator: "\n")
    }

    /// Writes the report as pretty-printed JSON to `path`.
    func writeJSON(to path: String) throws {
        var document = self
        document.medianRatios = summaries
        document.floorRatios = floorSummaries
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(document).write(to: URL(fileURLWithPath: path))
    }

    private func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
}
