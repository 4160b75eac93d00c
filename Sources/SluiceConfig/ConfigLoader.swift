import Foundation

/// Resolves a process's configuration from its sources, in increasing priority:
/// built-in defaults < config file < environment variables < command-line overrides.
public enum ConfigLoader {
    /// Loads and validates the configuration of `role`.
    ///
    /// - Parameters:
    ///   - fileText: the config file's text, or nil without a file. Keys of the other process are
    ///     accepted and ignored (one file may serve both); undeclared keys are errors naming the line.
    ///   - environment: e.g. `ProcessInfo.processInfo.environment`; only `SLUICE_*` variables are read,
    ///     and ones matching no key are reported in `warnings`.
    ///   - overrides: key name → text, usually from `CommandLineOptions.parse`; keys must belong to `role`.
    ///   - filePath: the file's path, used only in error messages.
    /// - Throws: `ConfigError` naming the key, the source and the allowed range.
    public static func load(
        role: ConfigRole, fileText: String?, environment: [String: String],
        overrides: [String: String], filePath: String? = nil
    ) throws(ConfigError) -> ResolvedConfig {
        let keys = ConfigRegistry.keys(for: role)
        var entries: [String: ResolvedConfig.Entry] = [:]
        for key in keys {
            entries[key.name] = .init(
                value: try key.parse(key.defaultText, source: .defaultValue), source: .defaultValue)
        }
        if let fileText {
            for line in try ConfigFileParser.parse(fileText, path: filePath) {
                let source = ConfigSource.file(path: filePath, line: line.number)
                guard let key = ConfigRegistry.key(named: line.key) else {
                    throw ConfigError(
                        .unknownKey, key: line.key, source: source,
                        "unknown key '\(line.key)' at \(source)")
                }
                let value = try key.parse(line.value, source: source)
                if key.scope.applies(to: role) { entries[key.name] = .init(value: value, source: source) }
            }
        }
        var warnings: [String] = []
        let known = Set(ConfigRegistry.all.map(\.environmentVariable))
        for variable in environment.keys.sorted() where variable.hasPrefix("SLUICE_") && !known.contains(variable) {
            warnings.append("environment variable \(variable) matches no configuration key; ignored")
        }
        for key in keys {
            guard let text = environment[key.environmentVariable] else { continue }
            let source = ConfigSource.environment(variable: key.environmentVariable)
            let trimmed = String(ConfigFileParser.trim(text[...]))
            entries[key.name] = .init(value: try key.parse(trimmed, source: source), source: source)
        }
        for name in overrides.keys.sorted() {
            guard let key = ConfigRegistry.key(named: name) else {
                throw ConfigError(.unknownKey, key: name, source: nil, "unknown key '\(name)' in overrides")
            }
            let source = ConfigSource.flag(key.flagName)
            guard key.scope.applies(to: role) else {
                throw ConfigError(
                    .wrongProcess, key: name, source: source,
                    "\(name) from \(source) is not read by \(role.executableName)")
            }
            let text = String(ConfigFileParser.trim((overrides[name] ?? "")[...]))
            entries[key.name] = .init(value: try key.parse(text, source: source), source: source)
        }
        let resolved = ResolvedConfig(role: role, entries: entries, warnings: warnings)
        try ConfigConstraints.check(resolved)
        return resolved
    }

    /// Reads a config file's text (UTF-8).
    public static func readFile(atPath path: String) throws(ConfigError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(.unreadableFile, key: nil, source: nil, "cannot read config file \(path): \(error)")
        }
    }
}
