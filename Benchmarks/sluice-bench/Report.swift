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
    }

    let parameters: Parameters
    let hostname: String
    let startedAt: Date
    private(set) var rows: [ReportRow] = []
    /// Lines printed under the table (e.g. that Sluice scenarios are not wired yet).
    var notes: [String] = []

    init(parameters: Parameters) {
        self.parameters = parameters
        hostname = ProcessInfo.processInfo.hostName
        startedAt = Date()
    }

    /// Adds a measurement; with `baselineName`, also its throughput ratio against the row of that name in the
    /// same round (no ratio if there is none).
    mutating func add(_ measurement: Measurement, round: Int, comparedTo baselineName: String? = nil) {
        let baseline = rows.last { $0.round == round && $0.measurement.name == baselineName }?.measurement
        let ratio = baseline.map { Ratio(value: measurement.gigabytesPerSecond, baseline: $0.gigabytesPerSecond) }
        rows.append(ReportRow(round: round, measurement: measurement, baselineName: baseline == nil ? nil : baselineName,
                              throughputRatio: ratio))
    }

    /// A fixed-width table: round, scenario, connections, GB, seconds, GB/s, CPU s/GB, ratio vs baseline.
    func table() -> String {
        let header = ["round", "scenario", "conns", "GB", "s", "GB/s", "CPU s/GB", "ratio vs baseline"]
        var lines = [header]
        for row in rows {
            let m = row.measurement
            var ratioText = "-"
            if let name = row.baselineName, let value = row.throughputRatio?.ratio {
                ratioText = format(value, 2) + " x " + name
            }
            lines.append(["\(row.round)", m.name, "\(m.connections)", format(Double(m.bytes) / 1e9, 2), format(m.seconds, 3),
                          format(m.gigabytesPerSecond, 2), format(m.cpuSecondsPerGigabyte, 3), ratioText])
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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }

    private func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
}
