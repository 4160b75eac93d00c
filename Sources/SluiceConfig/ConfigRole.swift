/// The process that loads a configuration.
public enum ConfigRole: String, Sendable, CaseIterable, CustomStringConvertible {
    case master
    case worker

    /// The role's name as used in key prefixes and documentation ("master", "worker").
    public var description: String { rawValue }

    /// The executable's name ("sluice-master", "sluice-worker").
    public var executableName: String { "sluice-\(rawValue)" }
}

/// Which processes read a key.
public enum ConfigScope: String, Sendable, CaseIterable, CustomStringConvertible {
    case master
    case worker
    case both

    /// The scope's name in documentation.
    public var description: String { rawValue }

    /// Whether a process of `role` reads keys of this scope.
    public func applies(to role: ConfigRole) -> Bool {
        switch self {
        case .both: true
        case .master: role == .master
        case .worker: role == .worker
        }
    }
}
