import Logging
import SluiceAuth
import SluiceCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Connected clients cached by endpoint ("host:port"): up to `clientsPerEndpoint` each, handed out round-robin.
/// A client found disconnected is replaced by a new connection on its next use. Thread-safe.
public final class FrameClientPool: Sendable {
    private let role: PeerRole
    private let identity: String
    private let credential: Credential?
    private let config: FrameClientConfig
    private let clientsPerEndpoint: Int
    private let logger: Logger

    private struct Slots {
        var clients: [FrameClient?]
        var next = 0
    }
    private struct State {
        var endpoints: [String: Slots] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    /// Creates an empty pool whose clients announce `role` and `identity` in their handshakes and prove
    /// `credential` when there is one.
    public init(
        role: PeerRole, identity: String, credential: Credential? = nil,
        config: FrameClientConfig = FrameClientConfig(),
        clientsPerEndpoint: Int = 1, logger: Logger = Logger(label: "sluice.net.pool")
    ) {
        self.role = role
        self.identity = identity
        self.credential = credential
        self.config = config
        self.clientsPerEndpoint = max(clientsPerEndpoint, 1)
        self.logger = logger
    }

    /// A connected client for `host:port`, connecting (or reconnecting a dead one) when needed.
    /// Throws what `FrameClient.connect` throws, or `NetError` once the pool is closed.
    public func client(host: String, port: Int) throws -> FrameClient {
        let key = EndpointText.format(host: host, port: port)
        let pick = try state.withLock { s throws -> (slot: Int, live: FrameClient?) in
            guard !s.closed else { throw NetError.connectionClosed("pool", "client pool is closed") }
            var slots = s.endpoints[key] ?? Slots(clients: Array(repeating: nil, count: clientsPerEndpoint))
            let slot = slots.next % clientsPerEndpoint
            slots.next = (slots.next + 1) % clientsPerEndpoint
            s.endpoints[key] = slots
            let existing = slots.clients[slot]
            return (slot, existing.flatMap { $0.isConnected ? $0 : nil })
        }
        if let live = pick.live { return live }
        let fresh = try FrameClient.connect(
            host: host, port: port, role: role, identity: identity, credential: credential, config: config,
            logger: logger)
        let (chosen, replaced) = state.withLock { s -> (FrameClient?, FrameClient?) in
            guard !s.closed, var slots = s.endpoints[key] else { return (nil, nil) }
            let current = slots.clients[pick.slot]
            if let current, current.isConnected { return (current, nil) }  // another thread won the race
            slots.clients[pick.slot] = fresh
            s.endpoints[key] = slots
            return (fresh, current)
        }
        replaced?.close()
        guard let chosen else {
            fresh.close()
            throw NetError.connectionClosed("pool", "client pool is closed")
        }
        if chosen !== fresh { fresh.close() }
        return chosen
    }

    /// A client for an endpoint written "host:port" or "[v6]:port".
    public func client(endpoint: String) throws -> FrameClient {
        guard let (host, port) = EndpointText.parse(endpoint) else {
            throw NetError(code: EINVAL, call: "pool", message: "endpoint \(endpoint) is not host:port")
        }
        return try client(host: host, port: port)
    }

    /// Clients currently held (connected or not yet replaced).
    public var clientCount: Int {
        state.withLock { s in s.endpoints.values.reduce(0) { $0 + $1.clients.compactMap { $0 }.count } }
    }

    /// Closes and forgets the clients of one endpoint (e.g. a worker declared dead).
    public func remove(endpoint: String) {
        let removed = state.withLock { $0.endpoints.removeValue(forKey: endpoint) }
        for client in removed?.clients.compactMap({ $0 }) ?? [] { client.close() }
    }

    /// Closes every client; later `client` calls throw.
    public func closeAll() {
        let all = state.withLock { s -> [FrameClient] in
            s.closed = true
            defer { s.endpoints.removeAll() }
            return s.endpoints.values.flatMap { $0.clients.compactMap { $0 } }
        }
        for client in all { client.close() }
    }
}
