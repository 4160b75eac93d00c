/// The single list of configuration keys and lookups over it.
public enum ConfigRegistry {
    /// Every key, master keys first, then worker keys, then keys read by both.
    public static let all: [ConfigKeySpec] = MasterKeys.all + WorkerKeys.all + SharedKeys.all

    /// The keys a process of `role` reads, in documentation order.
    public static func keys(for role: ConfigRole) -> [ConfigKeySpec] {
        all.filter { $0.scope.applies(to: role) }
    }

    /// The key called `name`, if declared.
    public static func key(named name: String) -> ConfigKeySpec? {
        byName[name]
    }

    /// The command-line flag setting `key` (`--storage-dir`, `--port`, `--master`).
    public static func flagName(for key: ConfigKeySpec) -> String {
        key.flagName
    }

    /// The key of `role` set by `flag` (with its leading `--`), if any.
    public static func key(forFlag flag: String, role: ConfigRole) -> ConfigKeySpec? {
        keys(for: role).first { $0.flagName == flag }
    }

    private static let byName: [String: ConfigKeySpec] = Dictionary(
        all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
}
