/// Every key of one process with its value and the source that set it.
public struct ResolvedConfig: Sendable {
    /// A resolved value and where it came from.
    public struct Entry: Sendable, Equatable {
        /// The value.
        public let value: ConfigValue
        /// The highest-priority source that set it.
        public let source: ConfigSource
    }

    /// The process this configuration is for.
    public let role: ConfigRole
    /// Non-fatal findings, e.g. `SLUICE_*` environment variables that match no key.
    public let warnings: [String]
    private let entries: [String: Entry]

    init(role: ConfigRole, entries: [String: Entry], warnings: [String]) {
        self.role = role
        self.entries = entries
        self.warnings = warnings
    }

    /// The value and source of `key`, or nil when `key` is not read by this process.
    public func entry(_ key: ConfigKeySpec) -> Entry? { entries[key.name] }

    /// Where `key`'s value came from, or nil when `key` is not read by this process.
    public func source(of key: ConfigKeySpec) -> ConfigSource? { entries[key.name]?.source }

    /// The value and source of a typed key (see `entry(_:)`).
    public func entry<Value>(_ key: ConfigKey<Value>) -> Entry? { entry(key.spec) }

    /// Where a typed key's value came from (see `source(of:)`).
    public func source<Value>(of key: ConfigKey<Value>) -> ConfigSource? { source(of: key.spec) }

    /// `key = value  # source` for every key of the process, for logging at start-up.
    public func summary() -> String {
        summaryEntries().map { "\($0.key) = \($0.value)  # \($0.source)" }.joined(separator: "\n")
    }

    /// Every key of this process with its value as text (a secret's shown as `<redacted>` unless empty) and
    /// source, in registry order: what the start-up summary prints and logs.
    public func summaryEntries() -> [(key: String, value: String, source: String)] {
        ConfigRegistry.keys(for: role).compactMap { key in
            entries[key.name].map { entry in
                let text = "\(entry.value)"
                return (key.name, key.isSecret && !text.isEmpty ? "<redacted>" : text, "\(entry.source)")
            }
        }
    }

    /// The value of `key`, typed.
    public func value<Value>(_ key: ConfigKey<Value>) throws(ConfigError) -> Value {
        guard let value = Value.read(try value(key.spec)) else {
            throw ConfigError(
                .invalidValue, key: key.name, source: source(of: key.spec),
                "\(key.name) is declared as \(key.spec.type.name), not read as \(Value.self)")
        }
        return value
    }

    private func value(_ key: ConfigKeySpec) throws(ConfigError) -> ConfigValue {
        guard let entry = entries[key.name] else {
            throw ConfigError(
                .wrongProcess, key: key.name, source: nil,
                "\(key.name) is not a \(role) key (it is read by \(key.scope))")
        }
        return entry.value
    }

}
