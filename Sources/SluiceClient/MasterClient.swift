import SluiceAuth
import SluiceCore
import SluiceNet
import Synchronization

/// Talks to the master: shuffle registration, locations, revive, application heartbeats and cleanup.
/// Reconnects once on a broken connection.
public final class MasterClient: Sendable {
    public let endpoint: String
    private let identity: String
    private let credential: Credential?
    private let config: FrameClientConfig
    private let client = Mutex<FrameClient?>(nil)

    /// A master client announcing `identity` and proving `credential` (when the cluster has a secret).
    public init(endpoint: String, identity: String, credential: Credential? = nil, requestTimeoutMs: Int = 30_000) {
        self.endpoint = endpoint
        self.identity = identity
        self.credential = credential
        self.config = FrameClientConfig(requestTimeoutMs: requestTimeoutMs)
    }

    private func connected() throws -> FrameClient {
        if let existing = client.withLock({ $0 }), existing.isConnected { return existing }
        let (host, port) = try Endpoint.parse(endpoint)
        let fresh = try FrameClient.connect(
            host: host, port: port, role: .client, identity: identity, credential: credential, config: config)
        client.withLock { $0 = fresh }
        return fresh
    }

    /// Sends one request, reconnecting and retrying once if the connection was broken.
    public func call<M: WireMessage>(_ message: M) throws -> Frame {
        do {
            return try connected().call(type: M.messageType, body: message.encoded())
        } catch let error as NetError {
            client.withLock {
                $0?.close()
                $0 = nil
            }
            _ = error
            return try connected().call(type: M.messageType, body: message.encoded())
        }
    }

    private func locations<M: WireMessage>(_ message: M) throws -> LocationTable {
        let reply = try LocationsResponse.decode(body: try call(message).body)
        guard reply.head.status == .ok else { throw ClientError(reply.head.status, reply.head.message) }
        return reply.table
    }

    /// Registers `applicationId` and returns its token (empty when the cluster has no secret). A driver holding
    /// the client credential calls it once, then proves the token (`Credential(kind: .application, ...)`).
    public func registerApplication(_ applicationId: String) throws -> [UInt8] {
        let reply = try RegisterApplicationResponse.decode(
            body: try call(
                RegisterApplicationRequest(
                    applicationId: applicationId)
            ).body)
        guard reply.head.status == .ok else { throw ClientError(reply.head.status, reply.head.message) }
        return reply.token
    }

    public func registerShuffle(
        _ shuffle: ShuffleKey, numMappers: UInt32, numPartitions: UInt32,
        replicate: Bool
    ) throws -> ShuffleHandle {
        let table = try locations(
            RegisterShuffleRequest(
                shuffle: shuffle, numMappers: numMappers,
                numPartitions: numPartitions, replicate: replicate))
        return ShuffleHandle(shuffle: shuffle, numMappers: numMappers, numPartitions: numPartitions, locations: table)
    }

    /// Every epoch of every partition.
    public func allLocations(_ shuffle: ShuffleKey) throws -> [PartitionLocation] {
        try locations(GetLocationsRequest(shuffle: shuffle)).locations
    }

    public func revive(
        _ shuffle: ShuffleKey, partitionId: UInt32, failedEpoch: UInt32,
        failedWorkerId: String
    ) throws -> PartitionLocation {
        let table = try locations(
            ReviveRequest(
                shuffle: shuffle, partitionId: partitionId, failedEpoch: failedEpoch,
                failedWorkerId: failedWorkerId))
        guard let location = table.locations.first, location.primary != nil else {
            throw ClientError(.internalError, "revive of partition \(partitionId) returned no location")
        }
        return location
    }

    private func status<M: WireMessage>(_ message: M) throws {
        let reply = try StatusResponse.decode(body: try call(message).body)
        guard reply.head.status == .ok else { throw ClientError(reply.head.status, reply.head.message) }
    }

    public func applicationHeartbeat(_ applicationId: String) throws {
        try status(ApplicationRequest(applicationId: applicationId))
    }

    public func unregisterShuffle(_ shuffle: ShuffleKey) throws {
        try status(UnregisterShuffleRequest(shuffle: shuffle))
    }

    public func unregisterApplication(_ applicationId: String) throws {
        let reply = try StatusResponse.decode(
            body: try connected().call(
                type: .unregisterApplication,
                body: ApplicationRequest(applicationId: applicationId).encoded()
            ).body)
        guard reply.head.status == .ok else { throw ClientError(reply.head.status, reply.head.message) }
    }

    public func close() {
        client.withLock {
            $0?.close()
            $0 = nil
        }
    }
}

/// Parses `host:port` and `[v6]:port` endpoints.
public enum Endpoint {
    /// The host (without brackets) and port of `endpoint`; throws `invalidArgument` when it is neither form.
    public static func parse(_ endpoint: String) throws -> (host: String, port: Int) {
        guard let parsed = EndpointText.parse(endpoint) else {
            throw ClientError(.invalidArgument, "not a host:port endpoint: \(endpoint)")
        }
        return parsed
    }
}
