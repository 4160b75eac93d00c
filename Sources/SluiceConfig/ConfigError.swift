/// Where a resolved value came from, in increasing priority.
public enum ConfigSource: Sendable, Equatable, CustomStringConvertible {
    /// The registry's built-in default.
    case defaultValue
    /// A config file line (1-based); `path` when the caller named the file.
    case file(path: String?, line: Int)
    /// An environment variable.
    case environment(variable: String)
    /// A command-line flag (or a programmatic override, reported under the key's flag name).
    case flag(String)

    /// E.g. `config file /etc/sluice/worker.conf line 12`, `environment variable SLUICE_MASTER_PORT`.
    public var description: String {
        switch self {
        case .defaultValue: "built-in default"
        case .file(let path, let line): "config file \(path.map { $0 + " " } ?? "")line \(line)"
        case .environment(let variable): "environment variable \(variable)"
        case .flag(let flag): "command-line flag \(flag)"
        }
    }
}

/// A configuration error: what is wrong, with the key and the source when they are known.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The category of a configuration error.
    public enum Kind: String, Sendable, Equatable {
        /// A config-file line that is not `key = value`, or a duplicated key.
        case syntax
        /// A key that no registry entry declares.
        case unknownKey
        /// A key of the other process given where only this process's keys are accepted.
        case wrongProcess
        /// Text that does not parse as the key's type.
        case invalidValue
        /// A value outside the key's allowed range.
        case outOfRange
        /// Values that are valid alone but inconsistent together (e.g. low watermark above high).
        case inconsistent
        /// A command-line argument that is not a known flag, or a flag without its value.
        case badArgument
        /// The config file could not be read.
        case unreadableFile
    }

    /// The category.
    public let kind: Kind
    /// The key concerned, if any.
    public let key: String?
    /// Where the offending text came from, if known.
    public let source: ConfigSource?
    /// A complete, human-readable message naming key, source and allowed range where relevant.
    public let message: String

    /// Creates an error.
    public init(_ kind: Kind, key: String?, source: ConfigSource?, _ message: String) {
        self.kind = kind
        self.key = key
        self.source = source
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
