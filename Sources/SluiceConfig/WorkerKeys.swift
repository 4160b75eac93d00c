import SluiceCore

/// Keys read by `sluice-worker`.
public enum WorkerKeys {
    private static let gib = 1 << 30
    private static let mib = 1 << 20
    private static let kib = 1 << 10
    private static let tib = 1 << 40
    private static let hour = 3_600_000

    /// `worker.host`.
    public static let host = ConfigKey<String>(
        "worker.host", .string(allowEmpty: false), default: "0.0.0.0", scope: .worker,
        doc: "Address the worker listens on: 0.0.0.0 takes IPv4, :: IPv4 and IPv6, or one address.")
    /// `worker.advertisedHost`.
    public static let advertisedHost = ConfigKey<String>(
        "worker.advertisedHost", .string(allowEmpty: true), default: "", scope: .worker,
        doc: "Host (name or IPv4/IPv6 literal, no brackets) the master gives clients and peers for reaching this "
            + "worker; empty = automatic: worker.host when it is a specific address, 127.0.0.1 when the master is "
            + "on loopback, else the local address of the interface that routes to the master (the pod IP in "
            + "Kubernetes). A loopback value with a master that is not on loopback is refused at start.")
    /// `worker.port`.
    public static let port = ConfigKey<Int>(
        "worker.port", .int(min: 0, max: 65535), default: "9098", scope: .worker,
        doc: "TCP port the worker listens on (0 = any free port, for tests).")
    /// `worker.httpPort`.
    public static let httpPort = ConfigKey<Int>(
        "worker.httpPort", .int(min: 0, max: 65535), default: "9100", scope: .worker,
        doc: "TCP port of the worker's operations API: /healthz, /readyz, /metrics, /version, /api/v1 (0 = any).")
    /// `worker.masterAddress`.
    public static let masterAddress = ConfigKey<HostPort>(
        "worker.masterAddress", .hostPort, default: "127.0.0.1:9097", scope: .worker, flag: "--master",
        doc: "The master to register with.")
    /// `worker.workerId`.
    public static let workerId = ConfigKey<String>(
        "worker.workerId", .string(allowEmpty: true), default: "", scope: .worker,
        doc: "Stable worker identity; empty = advertisedHost:port (the advertised host as chosen at start, the "
            + "bound port when port is 0). Set it when the address can change across restarts (a pod's IP).")
    /// `worker.storageDir`.
    public static let storageDir = ConfigKey<String>(
        "worker.storageDir", .string(allowEmpty: false), default: "./sluice-data", scope: .worker,
        doc: "Directory for partition files (created if missing).")
    /// The field names of a `worker.tiers` record.
    public enum TierField {
        public static let kind = "kind"
        public static let dirs = "dirs"
        public static let capacity = "capacity"
        public static let share = "share"
        public static let high = "high"
        public static let low = "low"
        public static let reencode = "reencode"
    }
    /// The fields of one `worker.tiers` record.
    public static let tierFields: [ConfigRecordField] = [
        ConfigRecordField(
            TierField.kind, .choice(StorageTierConfig.Kind.allCases.map(\.rawValue)),
            doc: "nvme (local instance store), ebs (a PersistentVolumeClaim) or fsx (a shared mount)."),
        ConfigRecordField(
            TierField.dirs, .list(.string(allowEmpty: false), maxCount: 16),
            doc: "The tier's directories, comma-separated: one per disk, new files spread over them."),
        ConfigRecordField(
            TierField.capacity, .bytes(min: 0, max: 1 << 60), default: "0",
            doc: "Bytes each directory may hold; 0 = share of its file system's size."),
        ConfigRecordField(
            TierField.share, .double(min: 0.01, max: 1.0), default: "0.95",
            doc: "With capacity 0: the fraction of each directory's file system the tier may fill."),
        ConfigRecordField(
            TierField.high, .double(min: 0.05, max: 1.0), default: "0.9",
            doc: "New files go elsewhere once a directory holds this fraction of its capacity."),
        ConfigRecordField(
            TierField.low, .double(min: 0.0, max: 1.0), default: "0.75",
            doc: "Demotion moves idle files out until a directory holds at most this fraction."),
        ConfigRecordField(
            TierField.reencode, .choice(["none", "zstd"]), default: "none",
            doc: "zstd: batches demoted into this tier are re-encoded from none/LZ4 to Zstandard (meant for fsx)."),
    ]
    /// `worker.tiers`.
    public static let tiers = ConfigKey<[ConfigRecord]>(
        "worker.tiers", .list(.record(tierFields), maxCount: 8), default: "", scope: .worker,
        doc: "Storage tiers, fastest first, ';' between tiers (kind=nvme dirs=/nvme0,/nvme1; kind=ebs dirs=/ebs "
            + "capacity=500g); empty = one nvme tier on worker.storageDir.")
    /// `worker.storageProbeInterval`.
    public static let storageProbeInterval = ConfigKey<Int>(
        "worker.storageProbeInterval", .milliseconds(min: 0, max: hour), default: "30s", unit: "ms", scope: .worker,
        doc: "How often a storage directory marked unhealthy (ENOSPC, EIO) is probed with a test write before it "
            + "gets new files again (0: at every new file).")
    /// `worker.storageStallTimeout`.
    public static let storageStallTimeout = ConfigKey<Int>(
        "worker.storageStallTimeout", .milliseconds(min: 10, max: hour), default: "10s", unit: "ms", scope: .worker,
        doc: "A write, fsync or open in a storage directory that has not returned after this long marks the "
            + "directory unhealthy (stalled): no new files, its files' pushes split away and its reads go to "
            + "the replica.")
    /// `worker.demotionRate`.
    public static let demotionRate = ConfigKey<Int>(
        "worker.demotionRate", .bytes(min: 0, max: tib), default: "64MiB", unit: "bytes/s", scope: .worker,
        doc: "Bytes per second demotion may copy from a directory above its tier's high watermark to the next tier "
            + "(0: demotion off).")
    /// `worker.idleFlushTime`.
    public static let idleFlushTime = ConfigKey<Int>(
        "worker.idleFlushTime", .milliseconds(min: 0, max: hour), default: "2s", unit: "ms", scope: .worker,
        doc: "A partition file's buffered batches are written out once it had no append for this long, so a "
            + "process crash takes from a copy at most what arrived in the last moments (0: only when the buffer "
            + "fills, a reader reads, or memory is short).")
    /// `worker.demotionIdleTime`.
    public static let demotionIdleTime = ConfigKey<Int>(
        "worker.demotionIdleTime", .milliseconds(min: 0, max: 24 * hour), default: "60s", unit: "ms",
        scope: .worker, doc: "A partition file with no append for this long may be demoted to the next tier.")
    /// `worker.demotionCheckInterval`.
    public static let demotionCheckInterval = ConfigKey<Int>(
        "worker.demotionCheckInterval", .milliseconds(min: 10, max: hour), default: "5s", unit: "ms",
        scope: .worker, doc: "How often the worker looks for directories above their high watermark to demote from.")
    /// `worker.memoryBudget`.
    public static let memoryBudget = ConfigKey<Int>(
        "worker.memoryBudget", .bytes(min: 16 * mib, max: tib), default: "1GiB", unit: "bytes", scope: .worker,
        doc: "Process-wide budget for buffered bytes (network, flush, replication).")
    /// `worker.memoryHighWatermarkFraction`.
    public static let memoryHighWatermarkFraction = ConfigKey<Double>(
        "worker.memoryHighWatermarkFraction", .double(min: 0.05, max: 1.0), default: "0.85", unit: "fraction",
        scope: .worker, doc: "Above this fraction of the budget the worker stops reading sockets.")
    /// `worker.memoryLowWatermarkFraction`.
    public static let memoryLowWatermarkFraction = ConfigKey<Double>(
        "worker.memoryLowWatermarkFraction", .double(min: 0.0, max: 1.0), default: "0.7", unit: "fraction",
        scope: .worker, doc: "Paused reading resumes below this fraction of the budget (at most the high one).")
    /// `worker.flushBufferSize`.
    public static let flushBufferSize = ConfigKey<Int>(
        "worker.flushBufferSize", .bytes(min: 4 * kib, max: 256 * mib), default: "64KiB", unit: "bytes",
        scope: .worker, doc: "Per-partition write buffer; a full buffer is flushed to the partition file.")
    /// `worker.flushBufferPoolSize`.
    public static let flushBufferPoolSize = ConfigKey<Int>(
        "worker.flushBufferPoolSize", .bytes(min: 0, max: tib), default: "64MiB", unit: "bytes", scope: .worker,
        doc: "Emptied flush buffers kept for reuse, outside the memory budget (0: none; at most an eighth of "
            + "worker.memoryBudget is used). Resident memory can exceed the budget by this much; reuse spares small "
            + "batches the buffer's regrowth copies and page faults.")
    /// `worker.receiveBufferPoolSize`.
    public static let receiveBufferPoolSize = ConfigKey<Int>(
        "worker.receiveBufferPoolSize", .bytes(min: 0, max: tib), default: "32MiB", unit: "bytes", scope: .worker,
        doc: "Request bodies of 64 KiB or more (pushed batches) kept after their request is answered, for the next "
            + "request to be read into, outside the memory budget (0: none; at most an eighth of worker.memoryBudget "
            + "is used). Resident memory can exceed the budget by this much; reuse spares each large push a fresh "
            + "mapping that the kernel faults in page by page.")
    /// `worker.mallocMmapThreshold`.
    public static let mallocMmapThreshold = ConfigKey<Int>(
        "worker.mallocMmapThreshold", .bytes(min: 0, max: 32 * mib), default: "128KiB", unit: "bytes",
        scope: .worker,
        doc:
            "sluice-worker sets glibc's M_MMAP_THRESHOLD to this at start: allocations this large (frame bodies, flush "
            + "buffers) get their own mapping, returned to the kernel when freed, so resident memory follows the "
            + "memory budget (0: glibc's adaptive threshold, whose freed buffers stay in per-thread arenas; "
            + "OverloadTests measured 1.5x the budget with it).")
    /// `worker.chunkTargetSize`.
    public static let chunkTargetSize = ConfigKey<Int>(
        "worker.chunkTargetSize", .bytes(min: 64 * kib, max: gib), default: "8MiB", unit: "bytes",
        scope: .worker, doc: "Target size of a fetch chunk; chunks end on batch boundaries.")
    /// `worker.partitionSoftLimit`.
    public static let partitionSoftLimit = ConfigKey<Int>(
        "worker.partitionSoftLimit", .bytes(min: mib, max: tib), default: "1GiB", unit: "bytes",
        scope: .worker, doc: "Past this size a partition file asks writers to split to a new location.")
    /// `worker.partitionHardLimit`.
    public static let partitionHardLimit = ConfigKey<Int>(
        "worker.partitionHardLimit", .bytes(min: mib, max: tib), default: "2GiB", unit: "bytes",
        scope: .worker, doc: "Pushes that would grow a partition file past this size are rejected.")
    /// `worker.fsyncOnFlush`.
    public static let fsyncOnFlush = ConfigKey<Bool>(
        "worker.fsyncOnFlush", .bool, default: "false", scope: .worker,
        doc: "fsync partition files after each flush (durability against host crashes, slower).")
    /// `worker.recycledFilesMax`.
    public static let recycledFilesMax = ConfigKey<Int>(
        "worker.recycledFilesMax", .int(min: 0, max: 10_000_000), default: "10000", unit: "files",
        scope: .worker,
        doc: "Deleted partition files kept, emptied, in the storage directory's .recycle folder for reuse by new ones "
            + "(0: off). On ext4 creating files soon after mass deletions scans every recently deleted inode; "
            + "reusing files allocates none.")
    /// `worker.spareFilesAtStart`.
    public static let spareFilesAtStart = ConfigKey<Int>(
        "worker.spareFilesAtStart", .int(min: 0, max: 10_000_000), default: "4096", unit: "files",
        scope: .worker,
        doc: "Empty partition files created in the background at start in each directory of the fastest tier, into the "
            + "recycled-file pool (at most worker.recycledFilesMax), so a fresh worker's first shuffles do not pay for "
            + "creating files on the push path (0: none).")
    /// `worker.maxConnections`.
    public static let maxConnections = ConfigKey<Int>(
        "worker.maxConnections", .int(min: 1, max: 65536), default: "1024", unit: "connections",
        scope: .worker, doc: "Connections beyond this many are refused at accept.")
    /// `worker.maxConnectionsPerPeer`.
    public static let maxConnectionsPerPeer = ConfigKey<Int>(
        "worker.maxConnectionsPerPeer", .int(min: 1, max: 65536), default: "512", unit: "connections",
        scope: .worker,
        doc: "Connections one remote IP address may hold open at once; an extra one is closed at accept. Executors "
            + "sharing a host (or a NAT) share this.")
    /// `worker.registrationPageSize`.
    public static let registrationPageSize = ConfigKey<Int>(
        "worker.registrationPageSize", .int(min: 1, max: 500_000), default: "100000", unit: "partitions",
        scope: .worker,
        doc: "Held partitions reported to the master per registration message (about 6 MB with 30-byte application "
            + "ids), so a worker holding millions of files re-registers within the master's frame limit.")
    /// `worker.maxFrameBodySize`.
    public static let maxFrameBodySize = ConfigKey<Int>(
        "worker.maxFrameBodySize", .bytes(min: 4 * kib, max: gib), default: "72MiB", unit: "bytes",
        scope: .worker,
        doc:
            "Frames announcing a larger body are rejected before any allocation. Keep it above the largest batch (64 MiB) plus a push's headers."
    )
    /// `worker.maxInFlightRequestsPerConnection`.
    public static let maxInFlightRequestsPerConnection = ConfigKey<Int>(
        "worker.maxInFlightRequestsPerConnection", .int(min: 1, max: 65536), default: "64", unit: "requests",
        scope: .worker, doc: "Unanswered requests per connection; the worker stops reading the socket beyond this.")
    /// `worker.idleTimeout`.
    public static let idleTimeout = ConfigKey<Int>(
        "worker.idleTimeout", .milliseconds(min: 0, max: 24 * hour), default: "10m", unit: "ms",
        scope: .worker, doc: "Connections with no traffic for this long are closed (0 = never).")
    /// `worker.replicationTimeout`.
    public static let replicationTimeout = ConfigKey<Int>(
        "worker.replicationTimeout", .milliseconds(min: 100, max: hour), default: "30s", unit: "ms",
        scope: .worker, doc: "A push waiting longer than this for its replica's acknowledgement fails.")
    /// `worker.replicaConnectionsPerPeer`.
    public static let replicaConnectionsPerPeer = ConfigKey<Int>(
        "worker.replicaConnectionsPerPeer", .int(min: 1, max: 64), default: "2", unit: "connections",
        scope: .worker, doc: "Connections this worker opens to each peer it replicates to.")
    /// `worker.maxOpenStreamsPerConnection`.
    public static let maxOpenStreamsPerConnection = ConfigKey<Int>(
        "worker.maxOpenStreamsPerConnection", .int(min: 1, max: 1_000_000), default: "1024", unit: "streams",
        scope: .worker, doc: "Fetch streams a single connection may hold open.")
    /// `worker.fetchCompressionCodec`.
    public static let fetchCompressionCodec = ConfigKey<Codec>(
        "worker.fetchCompressionCodec", .choice(Codec.allCases.map(\.description)), default: "lz4",
        scope: .worker, doc: "Codec that uncompressed batches are recompressed to for readers accepting it.")
    /// `worker.heartbeatRetryInterval`.
    public static let heartbeatRetryInterval = ConfigKey<Int>(
        "worker.heartbeatRetryInterval", .milliseconds(min: 100, max: 600_000), default: "2s", unit: "ms",
        scope: .worker, doc: "Delay between attempts to register or heartbeat while the master is unreachable.")
    /// `worker.shutdownGracePeriod`.
    public static let shutdownGracePeriod = ConfigKey<Int>(
        "worker.shutdownGracePeriod", .milliseconds(min: 0, max: hour), default: "30s", unit: "ms",
        scope: .worker, doc: "On SIGTERM, how long in-flight pushes, flushes and fetches may finish.")

    /// `worker.testPushDelay`.
    public static let testPushDelay = ConfigKey<Int>(
        "worker.testPushDelay", .milliseconds(min: 0, max: 60_000), default: "0", unit: "ms", scope: .worker,
        doc: "For tests only: every push this worker answers is answered this much later (a slow worker, as in "
            + "spark-tests' slowest-worker test). Keep 0 in production.")

    /// Every worker key, in documentation order.
    public static let all: [ConfigKeySpec] = [
        host.spec, advertisedHost.spec, port.spec, httpPort.spec, masterAddress.spec, workerId.spec, storageDir.spec,
        tiers.spec,
        storageProbeInterval.spec, storageStallTimeout.spec, idleFlushTime.spec, demotionRate.spec,
        demotionIdleTime.spec,
        demotionCheckInterval.spec, memoryBudget.spec, memoryHighWatermarkFraction.spec,
        memoryLowWatermarkFraction.spec,
        flushBufferSize.spec, flushBufferPoolSize.spec, receiveBufferPoolSize.spec,
        mallocMmapThreshold.spec, chunkTargetSize.spec,
        partitionSoftLimit.spec,
        partitionHardLimit.spec, fsyncOnFlush.spec, recycledFilesMax.spec, spareFilesAtStart.spec, maxConnections.spec,
        maxFrameBodySize.spec,
        maxInFlightRequestsPerConnection.spec, idleTimeout.spec, replicationTimeout.spec,
        replicaConnectionsPerPeer.spec, maxOpenStreamsPerConnection.spec, fetchCompressionCodec.spec,
        heartbeatRetryInterval.spec, shutdownGracePeriod.spec, maxConnectionsPerPeer.spec, registrationPageSize.spec,
        testPushDelay.spec,
    ]
}
