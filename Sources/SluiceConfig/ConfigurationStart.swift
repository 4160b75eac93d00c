import Foundation
import SluiceCore
import SluiceSystem

/// What reading a server's configuration from its command line decided.
public enum ConfigurationStart<Config> {
    /// Run the server with this configuration.
    case run(Config)
    /// Exit now with this status: 0 after `--help`/`--print-*`, 2 after a configuration error (already printed).
    case exit(Int32)

    /// Parses the command line and environment for `role`, prints help or docs when asked, prints warnings and the
    /// resolved summary to standard error, and builds the typed configuration with `build`.
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
                let config = try build(resolved)
                for warning in resolved.warnings { ProcessOutput.standardError("warning: \(warning)\n") }
                ProcessOutput.standardError(resolved.summary() + "\n")
                return .run(config)
            }
        } catch {
            ProcessOutput.standardError("\(processName): \(error)\n")
            return .exit(2)
        }
    }
}
