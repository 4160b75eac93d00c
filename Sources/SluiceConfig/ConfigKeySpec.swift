/// The declaration of one configuration key: name, type, default, unit, scope and doc. Declared once, through a
/// typed `ConfigKey<Value>`, in `MasterKeys`, `WorkerKeys` or `SharedKeys`; listed by `ConfigRegistry`.
///
/// Names are `<scope>.<camelCase>` (`master.port`, `worker.storageDir`) or, for keys read by both
/// processes, a bare camel-case name (`logLevel`). Byte and duration keys carry no unit in their
/// name because their values do (`worker.idleTimeout = 10m`); a bare number is in the `unit` column.
public struct ConfigKeySpec: Sendable, Hashable, CustomStringConvertible {
    /// The dotted key name used in config files and overrides.
    public let name: String
    /// Type and allowed range.
    public let type: ConfigValueType
    /// The default, as text in the key's syntax (validated by the registry tests).
    public let defaultText: String
    /// Unit of a bare number or of the value ("bytes", "ms", "connections"); nil when unit-less.
    public let unit: String?
    /// Which processes read the key.
    public let scope: ConfigScope
    /// One-line documentation.
    public let doc: String
    /// The flag when it differs from the mechanical one (e.g. `--master` for `worker.masterAddress`).
    let flagOverride: String?
    /// True for a credential: its value is never printed or logged (the start-up summary shows it redacted).
    public let isSecret: Bool

    /// Declares a key.
    public init(
        _ name: String, _ type: ConfigValueType, default defaultText: String, unit: String? = nil,
        scope: ConfigScope, flag: String? = nil, secret: Bool = false, doc: String
    ) {
        self.isSecret = secret
        self.name = name
        self.type = type
        self.defaultText = defaultText
        self.unit = unit
        self.scope = scope
        self.flagOverride = flag
        self.doc = doc
    }

    /// The key's name.
    public var description: String { name }

    /// Keys are identified by name.
    public static func == (lhs: ConfigKeySpec, rhs: ConfigKeySpec) -> Bool { lhs.name == rhs.name }

    /// Hashes the name.
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    /// `SLUICE_` + the name's dot- and camel-case-separated words in upper case:
    /// `worker.storageDir` → `SLUICE_WORKER_STORAGE_DIR`.
    public var environmentVariable: String {
        "SLUICE_" + Self.words(of: name).map { $0.uppercased() }.joined(separator: "_")
    }

    /// `--` + the words after the scope prefix in kebab case (`worker.storageDir` → `--storage-dir`),
    /// unless the key declares its own flag.
    public var flagName: String {
        if let flagOverride { return flagOverride }
        var words = Self.words(of: name)
        if words.count > 1, ConfigScope(rawValue: words[0]) != nil { words.removeFirst() }
        return "--" + words.map { $0.lowercased() }.joined(separator: "-")
    }

    /// Splits `worker.maxInFlightRequests` into `["worker", "max", "In", "Flight", "Requests"]`.
    static func words(of name: String) -> [String] {
        var words: [String] = []
        var current = ""
        for character in name {
            if character == "." {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else if character.isUppercase, !current.isEmpty {
                words.append(current)
                current = String(character)
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
