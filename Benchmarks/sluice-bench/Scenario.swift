import SluiceCompression
import SluiceCore

/// One Sluice scenario: a data shape, a replication factor and a codec, named `SHAPE-rN-CODEC`, e.g.
/// `large-batches-r1-none` or `small-partitions-r2-lz4`, or `tiered-SHAPE-rN-CODEC` for the same on workers with three
/// small storage tiers (see `TieredWorkers`). Each run measures push alone, fetch alone, and (unless turned off) a
/// mixed phase where a new shuffle is pushed while the first one is read again.
struct Scenario: Sendable, Hashable, CustomStringConvertible {
    enum Shape: String, Sendable, CaseIterable {
        /// `--bytes` over `--mappers` x `--partitions`, written in 32 KiB slices (large batches).
        case largeBatches = "large-batches"
        /// `--small-mappers` x `--small-partitions` blocks of `--small-block-bytes` (one block per map and partition).
        case smallPartitions = "small-partitions"
    }

    let shape: Shape
    let replicas: Int
    let codec: Codec
    /// Runs on the second cluster, whose workers have three small tiers (nvme, ebs, fsx directories).
    let tiered: Bool

    static let tieredPrefix = "tiered-"

    var description: String { (tiered ? Self.tieredPrefix : "") + "\(shape.rawValue)-r\(replicas)-\(codec)" }

    init(shape: Shape, replicas: Int, codec: Codec, tiered: Bool = false) {
        self.shape = shape
        self.replicas = replicas
        self.codec = codec
        self.tiered = tiered
    }

    /// Parses `[tiered-]SHAPE-rN-CODEC`; nil when it is not one.
    init?(name: String) {
        let tiered = name.hasPrefix(Self.tieredPrefix)
        let name = tiered ? String(name.dropFirst(Self.tieredPrefix.count)) : name
        guard let shape = Shape.allCases.first(where: { name.hasPrefix($0.rawValue + "-") }) else { return nil }
        let rest = name.dropFirst(shape.rawValue.count + 1).split(separator: "-")
        guard rest.count == 2, let replicas = ["r1": 1, "r2": 2][String(rest[0])],
            let codec = Codec(name: String(rest[1]))
        else { return nil }
        self.init(shape: shape, replicas: replicas, codec: codec, tiered: tiered)
    }

    /// The same scenario on one-tier workers.
    var untiered: Scenario { Scenario(shape: shape, replicas: replicas, codec: codec) }

    /// Row names, so that ratios can find their baseline in the same round.
    var pushName: String { "sluice-push \(self)" }
    var fetchName: String { "sluice-fetch \(self)" }
    var mixedName: String { "sluice-push+fetch \(self)" }

    /// The baseline a scenario's push is compared with: the large-batch push of the same replication and codec
    /// for many small partitions (receive+append when that scenario is not in the run), receive+append otherwise.
    /// A tiered scenario's push and fetch are compared with the same scenario on one tier.
    var pushBaseline: String {
        if tiered { return untiered.pushName }
        return shape == .smallPartitions
            ? Scenario(shape: .largeBatches, replicas: replicas, codec: codec).pushName
            : Baselines.receiveAndAppendName
    }

    /// The fetch's baseline: the one-tier fetch for a tiered scenario, sendfile of a cached file otherwise.
    var fetchBaseline: String { tiered ? untiered.fetchName : Baselines.sendfileName }

    /// Named sets of scenarios for `--suite`.
    static let suites: [String: [Scenario]] = [
        // `make demo`: the main push+fetch scenario with replication.
        "quick": [Scenario(shape: .largeBatches, replicas: 2, codec: .lz4)],
        // The ratio targets: one worker push with replication off and codec none, fetch, replication 2,
        // many small partitions against the large-batch push.
        "targets": [
            Scenario(shape: .largeBatches, replicas: 1, codec: .none),
            Scenario(shape: .largeBatches, replicas: 2, codec: .none),
            Scenario(shape: .smallPartitions, replicas: 1, codec: .none),
        ],
        // Everything the issue lists: replication 1 and 2, codecs none/lz4/zstd, both shapes.
        "full": [
            Scenario(shape: .largeBatches, replicas: 1, codec: .none),
            Scenario(shape: .largeBatches, replicas: 2, codec: .none),
            Scenario(shape: .largeBatches, replicas: 1, codec: .lz4),
            Scenario(shape: .largeBatches, replicas: 2, codec: .lz4),
            Scenario(shape: .largeBatches, replicas: 1, codec: .zstd),
            Scenario(shape: .smallPartitions, replicas: 1, codec: .none),
            Scenario(shape: .smallPartitions, replicas: 2, codec: .lz4),
        ],
        // Tiers: each scenario on one-tier workers and on workers with three small tiers, in the same round.
        "tiers": [
            Scenario(shape: .largeBatches, replicas: 1, codec: .none),
            Scenario(shape: .largeBatches, replicas: 1, codec: .none, tiered: true),
            Scenario(shape: .largeBatches, replicas: 2, codec: .lz4),
            Scenario(shape: .largeBatches, replicas: 2, codec: .lz4, tiered: true),
        ],
    ]

    /// Orders scenarios so that every large-batch push runs before the small-partition push compared with it.
    /// Tiered scenarios come after every one-tier scenario they are compared with.
    static func ordered(_ scenarios: [Scenario]) -> [Scenario] {
        var seen = Set<Scenario>()
        let unique = scenarios.filter { seen.insert($0).inserted }
        return [false, true].flatMap { tiered in
            unique.filter { $0.tiered == tiered && $0.shape == .largeBatches }
                + unique.filter { $0.tiered == tiered && $0.shape == .smallPartitions }
        }
    }
}
