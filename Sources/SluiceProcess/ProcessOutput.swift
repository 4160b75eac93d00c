import Foundation
import Logging
import SluiceCore

/// Unbuffered writes to the standard streams (the C `stderr`/`stdout` globals are not usable in Swift 6 mode),
/// and the one-time logging set-up shared by the process.
public enum ProcessOutput {
    /// Writes `text` to standard output at once (scripts read the "listening" line while the process runs).
    public static func standardOutput(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Writes `text` to standard error at once.
    public static func standardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Bootstraps swift-log once: every logger writes to standard error at `level` and above.
    public static func bootstrapLogging(level: LogLevel) {
        let swiftLogLevel = Logger.Level(rawValue: level.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = swiftLogLevel
            return handler
        }
    }
}
