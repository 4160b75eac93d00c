import SluiceAuth
import SluiceCore

/// Settings of the Swift client (the benchmark, tests and tools use it; the Java client has its own keys).
public struct ClientConfig: Sendable {
    /// `host:port` of the master.
    public var masterEndpoint: String
    /// Codec for pushed batches.
    public var codec: Codec
    /// Records for one partition are cut into a batch when they reach this many bytes.
    public var pushBufferBytes: Int
    /// Batches for one worker smaller than this are merged into one multi-partition push up to this size.
    public var mergedPushBytes: Int
    /// Push requests awaiting acknowledgement, per worker connection.
    public var maxInFlightPushesPerWorker: Int
    /// Push requests awaiting acknowledgement, per writer in total.
    public var maxInFlightPushesTotal: Int
    /// How often one batch may be revived and resent before the writer fails.
    public var maxPushRetries: Int
    /// Time-out of one request to a worker or the master.
    public var requestTimeoutMs: Int
    /// Chunk fetches in flight per stream.
    public var fetchWindowChunks: Int
    /// Codecs the reader accepts (mask of `Codec.maskBit`).
    public var acceptedCodecs: UInt8
    /// Ask the master for a replica of every partition.
    public var replicate: Bool
    /// Connections to each worker, used in turn (each is served by its own worker thread).
    public var connectionsPerWorker: Int
    /// Fetched chunk bodies each worker connection keeps for reading later chunks into (0: none; each is up to the
    /// worker's chunk size, 8 MiB by default).
    public var reusedChunkBuffersPerConnection: Int
    /// Called once per push request with the nanoseconds from sending it to its answer (or failure), on a
    /// connection thread: keep it short and non-blocking. For benchmarks; nil (the default) costs nothing.
    public var pushLatencyRecorder: (@Sendable (UInt64) -> Void)?
    /// Called once per push request with the status of each of its batches as the worker answered them (`ioError`
    /// for every batch when the worker did not answer), on a connection thread, before the writer acts on them:
    /// keep it short and non-blocking. For tests that check which statuses writers rode out; nil costs nothing.
    public var pushStatusRecorder: (@Sendable ([StatusCode]) -> Void)?
    /// What this client proves in its handshakes with a cluster that has a secret: an application's token (see
    /// `SluiceClient.registerApplication`; the client's identity must then be that application), or nil.
    public var credential: Credential?

    public init(
        masterEndpoint: String, codec: Codec = .lz4, pushBufferBytes: Int = 256 << 10,
        mergedPushBytes: Int = 1 << 20, maxInFlightPushesPerWorker: Int = 32, maxInFlightPushesTotal: Int = 256,
        maxPushRetries: Int = 5, requestTimeoutMs: Int = 60_000, fetchWindowChunks: Int = 4,
        acceptedCodecs: UInt8 = Codec.none.maskBit | Codec.lz4.maskBit | Codec.zstd.maskBit,
        replicate: Bool = true, connectionsPerWorker: Int = 2, reusedChunkBuffersPerConnection: Int = 2,
        pushLatencyRecorder: (@Sendable (UInt64) -> Void)? = nil,
        pushStatusRecorder: (@Sendable ([StatusCode]) -> Void)? = nil
    ) {
        self.masterEndpoint = masterEndpoint
        self.codec = codec
        self.pushBufferBytes = pushBufferBytes
        self.mergedPushBytes = mergedPushBytes
        self.maxInFlightPushesPerWorker = maxInFlightPushesPerWorker
        self.maxInFlightPushesTotal = maxInFlightPushesTotal
        self.maxPushRetries = maxPushRetries
        self.requestTimeoutMs = requestTimeoutMs
        self.fetchWindowChunks = fetchWindowChunks
        self.acceptedCodecs = acceptedCodecs
        self.replicate = replicate
        self.connectionsPerWorker = max(connectionsPerWorker, 1)
        self.reusedChunkBuffersPerConnection = max(reusedChunkBuffersPerConnection, 0)
        self.pushLatencyRecorder = pushLatencyRecorder
        self.pushStatusRecorder = pushStatusRecorder
    }
}

/// A registered shuffle as the driver hands it to map and reduce tasks: its key, sizes and epoch-0 locations.
public struct ShuffleHandle: Sendable {
    public var shuffle: ShuffleKey
    public var numMappers: UInt32
    public var numPartitions: UInt32
    public var locations: LocationTable

    public init(shuffle: ShuffleKey, numMappers: UInt32, numPartitions: UInt32, locations: LocationTable) {
        self.shuffle = shuffle
        self.numMappers = numMappers
        self.numPartitions = numPartitions
        self.locations = locations
    }
}

/// What the client could not do. The message names the shuffle, partition or worker involved.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public var status: StatusCode
    public var message: String

    public init(_ status: StatusCode, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status): \(message)" }
}
