import SluiceCore

/// The start-up sequence shared by the server executables: parse arguments, handle the
/// documentation actions, load the configuration.
public enum ConfigCommandLine {
    /// The outcome of `run`.
    public enum Outcome: Sendable {
        /// Text to print on standard output, after which the process exits 0 (help, docs, sample).
        case printAndExit(String)
        /// The resolved configuration to run with.
        case run(ResolvedConfig)
        /// The resolved configuration to check (`--check-config`): build it, report, and exit without serving.
        case check(ResolvedConfig)
    }

    /// Parses `arguments` (without the executable name) and, unless a documentation action was asked
    /// for, reads the config file and loads the configuration of `role`.
    public static func run(
        role: ConfigRole, arguments: [String],
        environment: [String: String]
    ) throws(ConfigError) -> Outcome {
        let options = try CommandLineOptions.parse(arguments, role: role)
        switch options.action {
        case .help: return .printAndExit(ConfigDocumentation.helpText(for: role))
        case .version: return .printAndExit("\(role.executableName) \(SluiceVersion.current)\n")
        case .printConfigDocs: return .printAndExit(ConfigRegistry.markdownDocumentation())
        case .printSampleConfig: return .printAndExit(ConfigDocumentation.sampleConfigFile(for: role))
        case .run: return .run(try ConfigLoader.load(role: role, options: options, environment: environment))
        case .checkConfig:
            return .check(try ConfigLoader.load(role: role, options: options, environment: environment))
        }
    }
}
