extension ConfigKey {
    /// The allowed values in documentation form (`1..65535`, `1MiB..1TiB`, `lz4, zstd, none`).
    public var rangeDescription: String {
        switch type {
        case .int(let min, let max): "\(min)..\(max)"
        case .bytes(let min, let max): "\(ConfigUnits.formatBytes(min))..\(ConfigUnits.formatBytes(max))"
        case .milliseconds(let min, let max):
            "\(ConfigUnits.formatMilliseconds(min))..\(ConfigUnits.formatMilliseconds(max))"
        case .double(let min, let max): "\(min)..\(max)"
        case .bool: "true, false"
        case .string(let allowEmpty): allowEmpty ? "any (may be empty)" : "non-empty"
        case .choice(let names): names.joined(separator: ", ")
        case .hostPort: "host:port, port 1..65535"
        }
    }

    /// What valid text looks like, for error messages.
    var syntaxHint: String {
        switch type {
        case .int: "an integer"
        case .bytes: "a byte size such as 4096, 64k, 8MiB or 2g"
        case .milliseconds: "a duration such as 500ms, 30s or 5m (bare numbers are ms)"
        case .double: "a number such as 0.85"
        case .bool: "true or false"
        case .string(let allowEmpty): allowEmpty ? "text without whitespace" : "non-empty text without whitespace"
        case .choice(let names): "one of \(names.joined(separator: ", "))"
        case .hostPort: "host:port (IPv6 as [addr]:port)"
        }
    }

    /// Parses and range-checks `text` (already trimmed) from `source`.
    public func parse(_ text: String, source: ConfigSource) throws(ConfigError) -> ConfigValue {
        let value: ConfigValue
        switch type {
        case .int:
            value = .int(try parsed(Int(text), text, source))
        case .bytes:
            value = .bytes(try parsed(ConfigUnits.parseBytes(text), text, source))
        case .milliseconds:
            value = .milliseconds(try parsed(ConfigUnits.parseMilliseconds(text), text, source))
        case .double:
            value = .double(try parsed(Double(text).flatMap { $0.isFinite ? $0 : nil }, text, source))
        case .bool:
            value = .bool(try parsed(Bool(text.lowercased()), text, source))
        case .string(let allowEmpty):
            let valid = !text.contains(where: \.isWhitespace) && (allowEmpty || !text.isEmpty)
            value = .string(try parsed(valid ? text : nil, text, source))
        case .choice(let names):
            let lowered = text.lowercased()
            value = .string(try parsed(names.contains(lowered) ? lowered : nil, text, source))
        case .hostPort:
            value = .hostPort(try parsed(HostPort(parsing: text), text, source))
        }
        try checkRange(value, source: source)
        return value
    }

    private func parsed<T>(_ result: T?, _ text: String, _ source: ConfigSource) throws(ConfigError) -> T {
        guard let result else {
            throw ConfigError(.invalidValue, key: name, source: source,
                              "invalid value '\(text)' for \(name) from \(source): expected \(syntaxHint)")
        }
        return result
    }

    private func checkRange(_ value: ConfigValue, source: ConfigSource) throws(ConfigError) {
        let inRange: Bool
        switch (type, value) {
        case (.int(let min, let max), .int(let v)),
             (.bytes(let min, let max), .bytes(let v)),
             (.milliseconds(let min, let max), .milliseconds(let v)):
            inRange = (min...max).contains(v)
        case (.double(let min, let max), .double(let v)):
            inRange = (min...max).contains(v)
        default:
            inRange = true
        }
        guard inRange else {
            throw ConfigError(.outOfRange, key: name, source: source,
                              "\(name) = \(value) from \(source) is out of range: allowed \(rangeDescription)")
        }
    }
}

extension ConfigKey {
    /// The key's default as a number (an int, a byte size or milliseconds), for libraries whose settings take their
    /// defaults from the registry instead of carrying their own. The registry's defaults are checked by tests
    /// (`ConfigDocsTests`): one that does not parse is a programming error.
    public var defaultNumber: Int {
        switch try? parse(defaultText, source: .defaultValue) {
        case .int(let value), .bytes(let value), .milliseconds(let value): return value
        default: preconditionFailure("the default of \(name) is not a number: \(defaultText)")
        }
    }

    /// The key's default as a Boolean (see `defaultNumber`).
    public var defaultBool: Bool {
        guard case .bool(let value) = try? parse(defaultText, source: .defaultValue) else {
            preconditionFailure("the default of \(name) is not a Boolean: \(defaultText)")
        }
        return value
    }
}
