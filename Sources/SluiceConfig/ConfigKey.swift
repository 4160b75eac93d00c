import SluiceCore

/// A configuration key with the Swift type its value is read as: `ResolvedConfig.value(_:)` returns a `Value`,
/// and `defaultValue` is the registry's default, so no library carries a default of its own.
public struct ConfigKey<Value: ConfigReadable>: Sendable {
    /// The declaration the registry lists (name, type, default text, unit, scope, doc).
    public let spec: ConfigKeySpec

    /// Declares a key; `type` must be one `Value` can be read from (checked once, at declaration).
    public init(
        _ name: String, _ type: ConfigValueType, default defaultText: String, unit: String? = nil,
        scope: ConfigScope, flag: String? = nil, secret: Bool = false, doc: String
    ) {
        precondition(Value.canRead(type), "\(name): a \(type.name) key cannot be read as \(Value.self)")
        spec = ConfigKeySpec(
            name, type, default: defaultText, unit: unit, scope: scope, flag: flag, secret: secret, doc: doc)
    }

    /// The dotted key name.
    public var name: String { spec.name }
    /// The environment variable that sets the key (`SLUICE_WORKER_STORAGE_DIR`).
    public var environmentVariable: String { spec.environmentVariable }
    /// The command-line flag that sets the key (`--storage-dir`).
    public var flagName: String { spec.flagName }

    /// The registry's default, typed. The defaults are checked by `ConfigDocsTests`: one that does not parse is a
    /// programming error.
    public var defaultValue: Value {
        guard let parsed = try? spec.parse(spec.defaultText, source: .defaultValue),
            let value = Value.read(parsed)
        else {
            preconditionFailure("the default of \(name) is not a valid \(spec.type.name): \(spec.defaultText)")
        }
        return value
    }
}

/// A Swift type a configuration value can be read as.
public protocol ConfigReadable: Sendable {
    /// Whether keys of `type` hold values of this Swift type.
    static func canRead(_ type: ConfigValueType) -> Bool
    /// The typed value, nil when `value` is of another kind.
    static func read(_ value: ConfigValue) -> Self?
}

extension Int: ConfigReadable {
    /// int, bytes and duration keys.
    public static func canRead(_ type: ConfigValueType) -> Bool {
        switch type {
        case .int, .bytes, .milliseconds: true
        default: false
        }
    }

    /// The number (bytes, milliseconds or plain).
    public static func read(_ value: ConfigValue) -> Int? {
        switch value {
        case .int(let v), .bytes(let v), .milliseconds(let v): v
        default: nil
        }
    }
}

extension Double: ConfigReadable {
    /// double keys.
    public static func canRead(_ type: ConfigValueType) -> Bool {
        if case .double = type { true } else { false }
    }

    /// The number.
    public static func read(_ value: ConfigValue) -> Double? {
        if case .double(let v) = value { v } else { nil }
    }
}

extension Bool: ConfigReadable {
    /// bool keys.
    public static func canRead(_ type: ConfigValueType) -> Bool { type == .bool }

    /// The flag.
    public static func read(_ value: ConfigValue) -> Bool? {
        if case .bool(let v) = value { v } else { nil }
    }
}

extension String: ConfigReadable {
    /// string and choice keys.
    public static func canRead(_ type: ConfigValueType) -> Bool {
        switch type {
        case .string, .choice: true
        default: false
        }
    }

    /// The text.
    public static func read(_ value: ConfigValue) -> String? {
        if case .string(let v) = value { v } else { nil }
    }
}

extension HostPort: ConfigReadable {
    /// host:port keys.
    public static func canRead(_ type: ConfigValueType) -> Bool { type == .hostPort }

    /// The address.
    public static func read(_ value: ConfigValue) -> HostPort? {
        if case .hostPort(let v) = value { v } else { nil }
    }
}

extension LogLevel: ConfigReadable {
    /// A choice of every level's name.
    public static func canRead(_ type: ConfigValueType) -> Bool { type == .choice(allCases.map(\.rawValue)) }

    /// The level named by the value.
    public static func read(_ value: ConfigValue) -> LogLevel? { String.read(value).flatMap(LogLevel.init(rawValue:)) }
}

extension Codec: ConfigReadable {
    /// A choice among codec names.
    public static func canRead(_ type: ConfigValueType) -> Bool {
        guard case .choice(let names) = type else { return false }
        return names.allSatisfy { Codec(name: $0) != nil }
    }

    /// The codec named by the value.
    public static func read(_ value: ConfigValue) -> Codec? { String.read(value).flatMap(Codec.init(name:)) }
}

extension Array: ConfigReadable where Element: ConfigReadable {
    /// list keys whose elements `Element` reads.
    public static func canRead(_ type: ConfigValueType) -> Bool {
        if case .list(let element, _) = type { Element.canRead(element) } else { false }
    }

    /// Every element, nil when one is of another kind.
    public static func read(_ value: ConfigValue) -> [Element]? {
        guard case .list(let items) = value else { return nil }
        var result: [Element] = []
        for item in items {
            guard let element = Element.read(item) else { return nil }
            result.append(element)
        }
        return result
    }
}

extension ConfigRecord: ConfigReadable {
    /// Elements of record-list keys.
    public static func canRead(_ type: ConfigValueType) -> Bool {
        if case .record = type { true } else { false }
    }

    /// The record.
    public static func read(_ value: ConfigValue) -> ConfigRecord? {
        if case .record(let record) = value { record } else { nil }
    }
}
