import Foundation

/// Whether one server process stayed flat: the median of its readings in the first window after warm-up against
/// the median in the last window of the load, with the process idle at the start and at the end as a second,
/// load-free comparison. Readings of a worker within `SoakSettings.steadyAgeSeconds` of its (re)start are left
/// out: a restarted worker starts small, which would hide growth.
struct SoakFlatness: Codable, Sendable {
    var process: String
    var firstRSSBytes: Int?
    var lastRSSBytes: Int?
    var firstFds: Int?
    var lastFds: Int?
    var firstPartitionFiles: Int?
    var lastPartitionFiles: Int?
    /// Fds (all but those on live partition files) when idle before the first job and after the last.
    var idleFdsAtStart: Int?
    var idleFdsAtEnd: Int?
    /// Fds open on deleted files at the end.
    var deletedFdsAtEnd: Int?
    /// Partition files left once every shuffle was unregistered and the cluster was idle.
    var partitionFilesAtEnd: Int?
    /// Why the process is not flat; empty when it is.
    var failures: [String] = []
    /// Why a comparison could not be made (too few steady readings); not a failure.
    var notes: [String] = []

    var rssChangePercent: Double? {
        guard let first = firstRSSBytes, let last = lastRSSBytes, first > 0 else { return nil }
        return (Double(last) / Double(first) - 1) * 100
    }

    /// Judges `readings` of `process` (load-time readings) and its idle readings at the start and end.
    init(
        process: String, readings: [SoakReading], idleStart: SoakReading?, idleEnd: SoakReading?,
        window: (first: ClosedRange<Double>, last: ClosedRange<Double>), settings: SoakSettings
    ) {
        self.process = process
        let steady = readings.filter { $0.ageSeconds >= settings.steadyAgeSeconds }
        let first = steady.filter { window.first.contains($0.atSeconds) }
        let last = steady.filter { window.last.contains($0.atSeconds) }
        firstRSSBytes = Self.median(first.map(\.rssBytes))
        lastRSSBytes = Self.median(last.map(\.rssBytes))
        firstFds = Self.median(first.map(\.judgedFds))
        lastFds = Self.median(last.map(\.judgedFds))
        firstPartitionFiles = Self.median(first.compactMap(\.partitionFiles))
        lastPartitionFiles = Self.median(last.compactMap(\.partitionFiles))
        idleFdsAtStart = idleStart?.judgedFds
        idleFdsAtEnd = idleEnd?.judgedFds
        deletedFdsAtEnd = idleEnd?.deletedFds
        partitionFilesAtEnd = idleEnd?.partitionFiles
        if let first = firstRSSBytes, let last = lastRSSBytes {
            let limit = Double(first) * (1 + settings.rssTolerancePercent / 100)
            if Double(last) > limit {
                failures.append(
                    "RSS median grew from \(Self.mebibytes(first)) to \(Self.mebibytes(last)) "
                        + "(more than \(Int(settings.rssTolerancePercent))%)")
            }
        } else {
            notes.append("no steady readings in the first or last window: RSS and fds not compared")
        }
        if let first = firstFds, let last = lastFds, last > first + settings.fdTolerance {
            failures.append("fd median grew from \(first) to \(last) (more than +\(settings.fdTolerance))")
        }
        if let start = idleFdsAtStart, let end = idleFdsAtEnd, end > start + settings.fdTolerance {
            failures.append("idle fds grew from \(start) to \(end) (more than +\(settings.fdTolerance))")
        }
        if let deleted = deletedFdsAtEnd, deleted > 0 { failures.append("\(deleted) fds open on deleted files") }
        if let files = partitionFilesAtEnd, files > 0 {
            failures.append("\(files) partition files left after every shuffle was unregistered")
        }
        if idleEnd == nil { failures.append("no reading at the end (process gone?)") }
    }

    static func median(_ values: [Int]) -> Int? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func mebibytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
}
