import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Unbuffered writes to the standard streams (the C `stderr`/`stdout` globals are not usable in Swift 6 mode),
/// and the one-time logging set-up shared by the process.
public enum ProcessOutput {
    /// Writes `text` to standard output at once (scripts read the "listening" line while the process runs).
    public static func standardOutput(_ text: String) {
        writeAll(STDOUT_FILENO, text)
    }

    /// Writes `text` to standard error at once.
    public static func standardError(_ text: String) {
        writeAll(STDERR_FILENO, text)
    }

    /// Bootstraps swift-log once: every logger writes lines in `format` to standard error at `level` and above.
    public static func bootstrapLogging(level: Logger.Level, format: LogFormat = .text) {
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level, format: format) }
    }

    private static func writeAll(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { raw in
                try? Posix.retrying("write") { Glibc.write(fd, raw.baseAddress, raw.count) }
            }
            guard let written, written > 0 else { return }  // a closed stream: nothing more to say
            bytes = bytes.dropFirst(written)
        }
    }
}
