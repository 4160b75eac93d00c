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
    public func entry(_ key: ConfigKey) -> Entry? { entries[key.name] }

    /// Where `key`'s value came from, or nil when `key` is not read by this process.
    public func source(of key: ConfigKey) -> ConfigSource? { entries[key.name]?.source }

    /// `key = value  # source` for every key of the process, for logging at start-up.
    public func summary() -> String {
        ConfigRegistry.keys(for: role).compactMap { key in
            entries[key.name].map { "\(key.name) = \($0.value)  # \($0.source)" }
        }.joined(separator: "\n")
    }

    /// The integer value of `key` (int, bytes or milliseconds keys).
    public func int(_ key: ConfigKey) throws(ConfigError) -> Int {
        switch try value(key) {
        case .int(let v), .bytes(let v), .milliseconds(let v): return v
        default: throw mismatch(key, "integer")
        }
    }

    /// The value of a double key.
    public func double(_ key: ConfigKey) throws(ConfigError) -> Double {
        guard case .double(let v) = try value(key) else { throw mismatch(key, "double") }
        return v
    }

    /// The value of a bool key.
    public func bool(_ key: ConfigKey) throws(ConfigError) -> Bool {
        guard case .bool(let v) = try value(key) else { throw mismatch(key, "bool") }
        return v
    }

    /// The value of a string or choice key.
    public func string(_ key: ConfigKey) throws(ConfigError) -> String {
        guard case .string(let v) = try value(key) else { throw mismatch(key, "string") }
        return v
    }

    /// The value of a host:port key.
    public func hostPort(_ key: ConfigKey) throws(ConfigError) -> HostPort {
        guard case .hostPort(let v) = try value(key) else { throw mismatch(key, "host:port") }
        return v
    }

    private func value(_ key: ConfigKey) throws(ConfigError) -> ConfigValue {
        guard let entry = entries[key.name] else {
            throw ConfigError(.wrongProcess, key: key.name, source: nil,
                              "\(key.name) is not a \(role) key (it is read by \(key.scope))")
        }
        return entry.value
    }

    private func mismatch(_ key: ConfigKey, _ expected: String) -> ConfigError {
        ConfigError(.invalidValue, key: key.name, source: source(of: key),
                    "\(key.name) is declared as \(key.type.name), not read as \(expected)")
    }
}
