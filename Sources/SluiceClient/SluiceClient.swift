import SluiceAuth
import SluiceCore
import SluiceNet

/// The Swift client: one master connection and a pool of worker connections shared by the writers and
/// readers it creates.
public final class SluiceClient: Sendable {
    public let config: ClientConfig
    public let master: MasterClient
    let workers: FrameClientPool
    private let identity: String

    public init(config: ClientConfig, identity: String = "sluice-swift-client") {
        self.config = config
        self.identity = identity
        master = MasterClient(
            endpoint: config.masterEndpoint, identity: identity, credential: config.credential,
            requestTimeoutMs: config.requestTimeoutMs)
        workers = FrameClientPool(
            role: .client, identity: identity, credential: config.credential,
            config: FrameClientConfig(
                requestTimeoutMs: config.requestTimeoutMs,
                maxInFlightRequests: config.maxInFlightPushesPerWorker,
                reusedBodies: config.reusedChunkBuffersPerConnection),
            clientsPerEndpoint: config.connectionsPerWorker)
    }

    /// Registers `applicationId` with the master at `masterEndpoint`, proving `clientCredential` (the client
    /// secret), and returns the credential the application's clients prove from then on: its token, or nil when
    /// the cluster has no secret (then `clientCredential` should be nil too).
    public static func registerApplication(
        _ applicationId: String, masterEndpoint: String, clientCredential: Credential?, requestTimeoutMs: Int = 30_000
    ) throws -> Credential? {
        let master = MasterClient(
            endpoint: masterEndpoint, identity: applicationId, credential: clientCredential,
            requestTimeoutMs: requestTimeoutMs)
        defer { master.close() }
        let token = try master.registerApplication(applicationId)
        return token.isEmpty ? nil : Credential(kind: .application, keyBytes: token)
    }

    public func registerShuffle(_ shuffle: ShuffleKey, numMappers: UInt32, numPartitions: UInt32) throws
        -> ShuffleHandle
    {
        try master.registerShuffle(
            shuffle, numMappers: numMappers, numPartitions: numPartitions,
            replicate: config.replicate)
    }

    /// A writer for one map task attempt.
    public func writer(_ handle: ShuffleHandle, mapIndex: UInt32, attemptId: UInt64) -> ShuffleWriter {
        ShuffleWriter(
            handle: handle, mapIndex: mapIndex, attemptId: attemptId, config: config, master: master,
            workers: workers)
    }

    /// A reader for one reduce task.
    public func reader(_ shuffle: ShuffleKey) -> ShuffleReader {
        ShuffleReader(shuffle: shuffle, config: config, master: master, workers: workers)
    }

    public func close() {
        master.close()
        workers.closeAll()
    }
}
