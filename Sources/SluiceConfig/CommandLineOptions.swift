/// Command-line arguments of `sluice-master` / `sluice-worker`, turned into config overrides.
///
/// Every key of the process is a flag (`ConfigRegistry.flagName(for:)`), written `--flag VALUE` or
/// `--flag=VALUE`; a bool flag alone means `true`. Also: `--config FILE`, `--help` (`-h`),
/// `--print-config-docs`, `--print-sample-config`, `--check-config`. A flag given twice is an error.
public struct CommandLineOptions: Sendable, Equatable {
    /// What the executable should do.
    public enum Action: Sendable, Equatable {
        /// Load the configuration and run.
        case run
        /// Print `ConfigDocumentation.helpText(for:)` and exit.
        case help
        /// Print the executable's name and `SluiceVersion.current` and exit.
        case version
        /// Print `ConfigRegistry.markdownDocumentation()` and exit.
        case printConfigDocs
        /// Print `ConfigDocumentation.sampleConfigFile(for:)` and exit.
        case printSampleConfig
        /// Load and check the configuration (file, environment, flags) as `run` would, then exit without serving.
        case checkConfig
    }

    /// The requested action.
    public var action: Action = .run
    /// The `--config` path, if given.
    public var configFilePath: String?
    /// Key name → value text, for `ConfigLoader.load(overrides:)`.
    public var overrides: [String: String] = [:]

    /// Creates options (defaults: run, no file, no overrides).
    public init(action: Action = .run, configFilePath: String? = nil, overrides: [String: String] = [:]) {
        self.action = action
        self.configFilePath = configFilePath
        self.overrides = overrides
    }

    /// Parses `arguments` (without the executable name) for a process of `role`.
    /// - Throws: `ConfigError.Kind.badArgument` for unknown flags, positional arguments, missing values
    ///   and repeated flags.
    public static func parse(_ arguments: [String], role: ConfigRole) throws(ConfigError) -> CommandLineOptions {
        var options = CommandLineOptions()
        var index = 0
        var seen: Set<String> = []
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let flag = String(parts[0])
            var inlineValue = parts.count == 2 ? String(parts[1]) : nil
            switch flag {
            case "--help", "-h": return CommandLineOptions(action: .help)
            case "--version": return CommandLineOptions(action: .version)
            case "--print-config-docs":
                options.action = .printConfigDocs
                continue
            case "--print-sample-config":
                options.action = .printSampleConfig
                continue
            case "--check-config":
                options.action = .checkConfig
                continue
            default: break
            }
            guard flag.hasPrefix("--") else {
                throw bad("unexpected argument '\(argument)'", role: role)
            }
            guard seen.insert(flag).inserted else { throw bad("flag \(flag) is given more than once", role: role) }
            let key = ConfigRegistry.key(forFlag: flag, role: role)
            guard flag == "--config" || key != nil else { throw bad("unknown flag \(flag)", role: role) }
            if inlineValue == nil {
                let next = index < arguments.count && !arguments[index].hasPrefix("--") ? arguments[index] : nil
                if key?.type == .bool, next == nil {
                    inlineValue = "true"
                } else if let next {
                    inlineValue = next
                    index += 1
                } else {
                    throw bad("flag \(flag) needs a value", role: role)
                }
            }
            let value = inlineValue ?? ""
            if let key { options.overrides[key.name] = value } else { options.configFilePath = value }
        }
        return options
    }

    private static func bad(_ message: String, role: ConfigRole) -> ConfigError {
        ConfigError(
            .badArgument, key: nil, source: nil,
            "\(message) (see \(role.executableName) --help)")
    }
}

extension ConfigLoader {
    /// Reads `options.configFilePath` (if any) and loads the configuration of `role`.
    public static func load(
        role: ConfigRole, options: CommandLineOptions,
        environment: [String: String]
    ) throws(ConfigError) -> ResolvedConfig {
        let text = try options.configFilePath.map { path throws(ConfigError) in try readFile(atPath: path) }
        return try load(
            role: role, fileText: text, environment: environment, overrides: options.overrides,
            filePath: options.configFilePath)
    }
}
