extension ConfigKeySpec {
    /// The allowed values in documentation form (`1..65535`, `1MiB..1TiB`, `lz4, zstd, none`).
    public var rangeDescription: String { type.rangeDescription }

    /// What valid text looks like, for error messages.
    var syntaxHint: String { type.syntaxHint }

    /// Parses and range-checks `text` (already trimmed) from `source`.
    public func parse(_ text: String, source: ConfigSource) throws(ConfigError) -> ConfigValue {
        try ConfigValueParser(key: name, source: source).parse(text, as: type)
    }
}

extension ConfigValueType {
    /// The allowed values in documentation form (`1..65535`, `1MiB..1TiB`, `lz4, zstd, none`).
    public var rangeDescription: String {
        switch self {
        case .int(let min, let max): "\(min)..\(max)"
        case .bytes(let min, let max): "\(ConfigUnits.formatBytes(min))..\(ConfigUnits.formatBytes(max))"
        case .milliseconds(let min, let max):
            "\(ConfigUnits.formatMilliseconds(min))..\(ConfigUnits.formatMilliseconds(max))"
        case .double(let min, let max): "\(min)..\(max)"
        case .bool: "true, false"
        case .string(let allowEmpty): allowEmpty ? "any (may be empty)" : "non-empty"
        case .choice(let names): names.joined(separator: ", ")
        case .hostPort: "host:port, port 1..65535"
        case .list(let element, let maxCount): "up to \(maxCount) of \(element.rangeDescription)"
        case .record(let fields):
            fields.map { "\($0.name)=\($0.type.name)" + ($0.defaultText.map { " (default \($0))" } ?? "") }
                .joined(separator: " ")
        }
    }

    /// What valid text looks like, for error messages.
    var syntaxHint: String {
        switch self {
        case .int: "an integer"
        case .bytes: "a byte size such as 4096, 64k, 8MiB or 2g"
        case .milliseconds: "a duration such as 500ms, 30s or 5m (bare numbers are ms)"
        case .double: "a number such as 0.85"
        case .bool: "true or false"
        case .string(let allowEmpty): allowEmpty ? "text without whitespace" : "non-empty text without whitespace"
        case .choice(let names): "one of \(names.joined(separator: ", "))"
        case .hostPort: "host:port (IPv6 as [addr]:port)"
        case .list(let element, _):
            if case .record = element { "records separated by ';'" } else { "\(element.syntaxHint), separated by ','" }
        case .record(let fields):
            "field=value pairs separated by spaces, fields " + fields.map(\.name).joined(separator: ", ")
        }
    }
}

/// Parses text into a value of a declared type, recursively for lists and records; errors name the key (and
/// the record field) and the source.
struct ConfigValueParser {
    let key: String
    let source: ConfigSource
    var field: String? = nil

    private var what: String { field.map { "\(key) field \($0)" } ?? key }

    func parse(_ text: String, as type: ConfigValueType) throws(ConfigError) -> ConfigValue {
        let value: ConfigValue
        switch type {
        case .int:
            value = .int(try parsed(Int(text), text, type))
        case .bytes:
            value = .bytes(try parsed(ConfigUnits.parseBytes(text), text, type))
        case .milliseconds:
            value = .milliseconds(try parsed(ConfigUnits.parseMilliseconds(text), text, type))
        case .double:
            value = .double(try parsed(Double(text).flatMap { $0.isFinite ? $0 : nil }, text, type))
        case .bool:
            value = .bool(try parsed(Bool(text.lowercased()), text, type))
        case .string(let allowEmpty):
            let valid = !text.contains(where: \.isWhitespace) && (allowEmpty || !text.isEmpty)
            value = .string(try parsed(valid ? text : nil, text, type))
        case .choice(let names):
            let lowered = text.lowercased()
            value = .string(try parsed(names.contains(lowered) ? lowered : nil, text, type))
        case .hostPort:
            value = .hostPort(try parsed(HostPort(parsing: text), text, type))
        case .list(let element, let maxCount):
            value = .list(try parseList(text, element: element, maxCount: maxCount, type: type))
        case .record(let fields):
            value = .record(try parseRecord(text, fields: fields, type: type))
        }
        try checkRange(value, type)
        return value
    }

    private func parseList(
        _ text: String, element: ConfigValueType, maxCount: Int,
        type: ConfigValueType
    ) throws(ConfigError) -> [ConfigValue] {
        let separator: Character = if case .record = element { ";" } else { "," }
        let trimmed = ConfigFileParser.trim(text[...])
        guard !trimmed.isEmpty else { return [] }
        let items = trimmed.split(separator: separator, omittingEmptySubsequences: false).map {
            String(ConfigFileParser.trim($0))
        }
        guard items.count <= maxCount else {
            throw ConfigError(
                .outOfRange, key: key, source: source,
                "\(what) from \(source) has \(items.count) items: at most \(maxCount) allowed")
        }
        var values: [ConfigValue] = []
        for item in items {
            guard !item.isEmpty else { throw invalid(text, type, "an empty item") }
            values.append(try parse(item, as: element))
        }
        return values
    }

    private func parseRecord(
        _ text: String, fields: [ConfigRecordField],
        type: ConfigValueType
    ) throws(ConfigError) -> ConfigRecord {
        var given: [String: String] = [:]
        for token in text.split(whereSeparator: \.isWhitespace) {
            guard let equals = token.firstIndex(of: "=") else {
                throw invalid(text, type, "'\(token)' is not field=value")
            }
            let name = String(token[..<equals])
            guard fields.contains(where: { $0.name == name }) else {
                throw invalid(text, type, "unknown field '\(name)'")
            }
            guard given[name] == nil else { throw invalid(text, type, "field '\(name)' given twice") }
            given[name] = String(token[token.index(after: equals)...])
        }
        var values: [(name: String, value: ConfigValue)] = []
        for declared in fields {
            guard let fieldText = given[declared.name] ?? declared.defaultText else {
                throw invalid(text, type, "required field '\(declared.name)' is missing")
            }
            var inner = self
            inner.field = declared.name
            values.append((declared.name, try inner.parse(fieldText, as: declared.type)))
        }
        return ConfigRecord(fields: values)
    }

    private func invalid(_ text: String, _ type: ConfigValueType, _ why: String? = nil) -> ConfigError {
        let reason = why.map { "\($0); " } ?? ""
        return ConfigError(
            .invalidValue, key: key, source: source,
            "invalid value '\(text)' for \(what) from \(source): \(reason)expected \(type.syntaxHint)")
    }

    private func parsed<T>(_ result: T?, _ text: String, _ type: ConfigValueType) throws(ConfigError) -> T {
        guard let result else { throw invalid(text, type) }
        return result
    }

    private func checkRange(_ value: ConfigValue, _ type: ConfigValueType) throws(ConfigError) {
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
            throw ConfigError(
                .outOfRange, key: key, source: source,
                "\(what) = \(value) from \(source) is out of range: allowed \(type.rangeDescription)")
        }
    }
}
