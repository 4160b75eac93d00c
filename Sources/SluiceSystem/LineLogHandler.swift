import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// How log records are written to standard error.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-12-06T20:50:00.123Z info sluice.worker: key=value [Module] message`: for people.
    case text
    /// One JSON object per line (`ts`, `level`, `logger`, `source`, `msg`, then the metadata): for Fluent Bit,
    /// CloudWatch and `jq`.
    case json
}

/// Writes each record as one line to standard error, with millisecond UTC timestamps, in `LogFormat`. Writes go
/// through `ProcessOutput`, so a closed standard error (`... 2>&1 | head`) loses lines, never the process.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat

    /// A handler for the logger named `label`.
    public init(label: String, level: Logger.Level, format: LogFormat) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let own = event.metadata { all.merge(own) { _, new in new } }
        ProcessOutput.standardError(
            Self.line(
                timestamp: Self.timestamp(), level: event.level, label: label, source: event.source,
                message: event.message.description, metadata: all, format: format))
    }

    /// One record as a line (with its newline).
    static func line(
        timestamp: String, level: Logger.Level, label: String, source: String, message: String,
        metadata: Logger.Metadata, format: LogFormat
    ) -> String {
        let sorted = metadata.sorted { $0.key < $1.key }
        switch format {
        case .text:
            let fields = sorted.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return "\(timestamp) \(level) \(label): \(fields.isEmpty ? "" : fields + " ")[\(source)] \(message)\n"
        case .json:
            var parts = [
                ("ts", timestamp), ("level", level.rawValue), ("logger", label), ("source", source), ("msg", message),
            ].map { "\(quoted($0.0)):\(quoted($0.1))" }
            parts += sorted.map { "\(quoted($0.key)):\(quoted("\($0.value)"))" }
            return "{" + parts.joined(separator: ",") + "}\n"
        }
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Now in UTC, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }
}
