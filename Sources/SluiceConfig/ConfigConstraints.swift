/// Rules relating several keys, checked after every source has been applied.
public enum ConfigConstraints {
    /// Each rule as `(smaller key, larger key, strict)`: `smaller` must be below (or, if not strict,
    /// at most) `larger`. Rules whose keys the process does not read are skipped.
    static let orderings: [(smaller: ConfigKeySpec, larger: ConfigKeySpec, strict: Bool)] = [
        (MasterKeys.workerHeartbeatInterval.spec, MasterKeys.workerHeartbeatTimeout.spec, true),
        (MasterKeys.applicationCheckInterval.spec, MasterKeys.applicationTimeout.spec, false),
        (WorkerKeys.memoryLowWatermarkFraction.spec, WorkerKeys.memoryHighWatermarkFraction.spec, false),
        (WorkerKeys.partitionSoftLimit.spec, WorkerKeys.partitionHardLimit.spec, false),
        (WorkerKeys.flushBufferSize.spec, WorkerKeys.memoryBudget.spec, false),
    ]

    /// One sentence per rule, for the generated documentation.
    public static var descriptions: [String] {
        orderings.map { "`\($0.smaller.name)` \($0.strict ? "<" : "<=") `\($0.larger.name)`" }
    }

    /// Throws `.inconsistent` naming both keys, their values and sources, for the first broken rule.
    public static func check(_ config: ResolvedConfig) throws(ConfigError) {
        for rule in orderings {
            guard let small = config.entry(rule.smaller), let large = config.entry(rule.larger) else { continue }
            guard let a = number(small.value), let b = number(large.value) else { continue }
            if rule.strict ? a < b : a <= b { continue }
            let relation = rule.strict ? "less than" : "at most"
            throw ConfigError(
                .inconsistent, key: rule.smaller.name, source: small.source,
                "\(rule.smaller.name) = \(small.value) (\(small.source)) must be \(relation) "
                    + "\(rule.larger.name) = \(large.value) (\(large.source))")
        }
    }

    private static func number(_ value: ConfigValue) -> Double? {
        switch value {
        case .int(let v), .bytes(let v), .milliseconds(let v): Double(v)
        case .double(let v): v
        default: nil
        }
    }
}
