import Logging
import Synchronization

/// A logger that drops every record: tests check behaviour, not log lines (the logging system is never
/// bootstrapped in tests).
public let quietLogger = Logger(label: "sluice.test", factory: { _ in SwiftLogNoOpLogHandler() })

/// Log records kept in memory, for tests that assert what a server logged.
public final class CapturedLogs: Sendable {
    /// One record: level, message and metadata rendered as strings.
    public struct Record: Sendable {
        /// The record's level.
        public var level: Logger.Level
        /// The constant message.
        public var message: String
        /// The logger's and the record's metadata, rendered.
        public var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    /// An empty store.
    public init() {}

    /// Every record so far, oldest first.
    public var all: [Record] { records.withLock { $0 } }

    /// A handler that appends to this store, for `Logger(label:factory:)`.
    public func handler() -> some LogHandler { Handler(logs: self) }

    fileprivate func append(_ record: Record) { records.withLock { $0.append(record) } }

    private struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            logs.append(
                Record(
                    level: event.level, message: event.message.description,
                    metadata: merged.mapValues(\.description)))
        }
    }
}
