/// One storage tier as configured: a kind, its directories (one per disk, files spread over them), how much each
/// directory may hold, and the watermarks that steer new files away from it and (later) demote files out of it.
/// Tiers are listed fastest first; a worker places a new partition file in the first tier with room.
public struct StorageTierConfig: Sendable, Equatable {
    /// What a tier's directories are: the kinds a worker on EKS has.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// Local NVMe instance store: fastest, lost with the node.
        case nvme
        /// An EBS volume through a PersistentVolumeClaim: survives a pod restart.
        case ebs
        /// An FSx for Lustre file system mounted ReadWriteMany: large, shared, slower per stream.
        case fsx
    }

    /// What the directories are.
    public var kind: Kind
    /// The tier's directories (created when missing).
    public var directories: [String]
    /// Bytes each directory may hold; 0 = `fileSystemShare` of its file system's size.
    public var capacityBytes: Int
    /// With `capacityBytes` 0, the fraction of each directory's file system the tier may fill.
    public var fileSystemShare: Double
    /// New files go to another directory or tier once a directory holds this fraction of its capacity.
    public var highWatermarkFraction: Double
    /// Demotion moves files out of a directory until it holds at most this fraction.
    public var lowWatermarkFraction: Double
    /// Batches demoted into this tier are re-encoded from none/LZ4 to Zstandard (`reencode=zstd`).
    public var reencodeToZstd: Bool

    /// A tier with every field given.
    public init(
        kind: Kind, directories: [String], capacityBytes: Int, fileSystemShare: Double,
        highWatermarkFraction: Double, lowWatermarkFraction: Double, reencodeToZstd: Bool = false
    ) {
        self.kind = kind
        self.directories = directories
        self.capacityBytes = capacityBytes
        self.fileSystemShare = fileSystemShare
        self.highWatermarkFraction = highWatermarkFraction
        self.lowWatermarkFraction = lowWatermarkFraction
        self.reencodeToZstd = reencodeToZstd
    }

    /// The tier a parsed `worker.tiers` record describes.
    /// - Throws: `.inconsistent` when the low watermark is not below the high one.
    init(record: ConfigRecord, source: ConfigSource?) throws(ConfigError) {
        typealias F = WorkerKeys.TierField
        guard let kindName = record.value(F.kind, as: String.self), let kind = Kind(rawValue: kindName),
            let directories = record.value(F.dirs, as: [String].self),
            let capacityBytes = record.value(F.capacity, as: Int.self),
            let share = record.value(F.share, as: Double.self),
            let high = record.value(F.high, as: Double.self),
            let low = record.value(F.low, as: Double.self),
            let reencode = record.value(F.reencode, as: String.self)
        else {
            throw ConfigError(
                .invalidValue, key: WorkerKeys.tiers.name, source: source,
                "\(WorkerKeys.tiers.name) record '\(record)' lacks a field")
        }
        guard low < high else {
            throw ConfigError(
                .inconsistent, key: WorkerKeys.tiers.name, source: source,
                "\(WorkerKeys.tiers.name) tier '\(record)': low=\(low) must be below high=\(high)")
        }
        self.init(
            kind: kind, directories: directories, capacityBytes: capacityBytes, fileSystemShare: share,
            highWatermarkFraction: high, lowWatermarkFraction: low, reencodeToZstd: reencode == "zstd")
    }

    /// One `nvme` tier on `directory` with the record fields' registry defaults: what `worker.storageDir` means
    /// when `worker.tiers` is empty.
    public static func single(directory: String) throws(ConfigError) -> StorageTierConfig {
        var fields: [(name: String, value: ConfigValue)] = []
        let parser = ConfigValueParser(key: WorkerKeys.tiers.name, source: .defaultValue)
        for field in WorkerKeys.tierFields {
            switch field.name {
            case WorkerKeys.TierField.kind: fields.append((field.name, .string(Kind.nvme.rawValue)))
            case WorkerKeys.TierField.dirs: fields.append((field.name, .list([.string(directory)])))
            default:
                guard let text = field.defaultText else { continue }
                fields.append((field.name, try parser.parse(text, as: field.type)))
            }
        }
        return try StorageTierConfig(record: ConfigRecord(fields: fields), source: .defaultValue)
    }
}
