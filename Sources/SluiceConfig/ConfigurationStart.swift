import Foundation
import Logging
import SluiceCore
import SluiceSystem

/// What reading a server's configuration from its command line decided.
public enum ConfigurationStart<Config> {
    /// Run the server with this configuration; `resolved` says where each value came from (log it with
    /// `logSummary` once logging is set up).
    case run(Config, resolved: ResolvedConfig)
    /// Exit now with this status: 0 after `--help`/`--print-*` or a passed `--check-config`, 2 after a
    /// configuration error (already printed).
    case exit(Int32)

    /// Parses the command line and environment for `role`, prints help or docs when asked, and builds the typed
    /// configuration with `build`; errors go to standard error.
    public static func fromCommandLine(
        role: ConfigRole, processName: String,
        build: (ResolvedConfig) throws -> Config
    ) -> ConfigurationStart<Config> {
        do {
            switch try ConfigCommandLine.run(
                role: role, arguments: Array(CommandLine.arguments.dropFirst()),
                environment: ProcessInfo.processInfo.environment)
            {
            case .printAndExit(let text):
                ProcessOutput.standardOutput(text)
                return .exit(0)
            case .run(let resolved):
                return .run(try build(resolved), resolved: resolved)
            case .check(let resolved):
                _ = try build(resolved)
                return .exit(report(check: resolved, processName: processName))
            }
        } catch {
            ProcessOutput.standardError("\(processName): \(error)\n")
            return .exit(2)
        }
    }
}

extension ConfigurationStart {
    /// Prints the outcome of `--check-config` on a configuration that loaded and built: its warnings (an
    /// environment variable matching no key) on standard error, which fail the check, else one line on standard
    /// output. Returns the exit status (0 passed, 2 warnings).
    static func report(check resolved: ResolvedConfig, processName: String) -> Int32 {
        guard resolved.warnings.isEmpty else {
            for warning in resolved.warnings { ProcessOutput.standardError("\(processName): \(warning)\n") }
            return 2
        }
        ProcessOutput.standardOutput("\(processName): configuration ok\n")
        return 0
    }
}

extension ResolvedConfig {
    /// Sets up the process's logging from `logLevel` and `logFormat`, logs the configuration summary, and returns
    /// the process's logger named `label`.
    public func startLogging(label: String) -> Logger {
        let level = (try? value(SharedKeys.logLevel)).flatMap { Logger.Level(rawValue: $0.rawValue) } ?? .info
        let format = (try? value(SharedKeys.logFormat)).flatMap { LogFormat(rawValue: $0) } ?? .text
        ProcessOutput.bootstrapLogging(level: level, format: format)
        let logger = Logger(label: label)
        logSummary(to: logger)
        return logger
    }

    /// Logs every key's value (secrets redacted) and source, one `configuration` record each, and the warnings.
    public func logSummary(to logger: Logger) {
        for warning in warnings { logger.warning("configuration warning", metadata: ["warning": "\(warning)"]) }
        for entry in summaryEntries() {
            logger.info(
                "configuration",
                metadata: [
                    "config.key": "\(entry.key)", "config.value": "\(entry.value)", "config.source": "\(entry.source)",
                ])
        }
    }
}
