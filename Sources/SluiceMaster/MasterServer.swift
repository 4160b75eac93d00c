import Dispatch
import Logging
import Metrics
import SluiceConfig
import SluiceCore
import SluiceNet
import SluiceOperations
import SluiceSystem
import Synchronization

/// The I/O shell around `MasterState`: a `FrameServer` that decodes requests, applies them to the state
/// under one lock (the master's work per request is microseconds), and a timer that ticks expiry.
public final class MasterServer: Sendable {
    /// Network and timing options of the shell.
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var settings: MasterSettings
        public var maxConnections: Int
        /// Connections one remote IP address may hold open at once.
        public var maxConnectionsPerPeer: Int
        public var maxFrameBodyBytes: Int
        public var maxInFlightRequestsPerConnection: Int
        public var idleTimeoutMs: Int
        /// How often expiry is checked.
        public var tickIntervalMs: Int
        /// The operations API (health, metrics, JSON); nil runs none.
        public var http: HTTPSettings?
        /// The cluster secret and whether peers must authenticate (default: none).
        public var auth = AuthSettings()

        /// Every field explicitly; `init(_ config: MasterConfig)` is what a deployed master runs.
        public init(
            host: String, port: Int, settings: MasterSettings, maxConnections: Int, maxConnectionsPerPeer: Int,
            maxFrameBodyBytes: Int, maxInFlightRequestsPerConnection: Int, idleTimeoutMs: Int, tickIntervalMs: Int,
            http: HTTPSettings?
        ) {
            self.host = host
            self.port = port
            self.settings = settings
            self.maxConnections = maxConnections
            self.maxConnectionsPerPeer = maxConnectionsPerPeer
            self.maxFrameBodyBytes = maxFrameBodyBytes
            self.maxInFlightRequestsPerConnection = maxInFlightRequestsPerConnection
            self.idleTimeoutMs = idleTimeoutMs
            self.tickIntervalMs = tickIntervalMs
            self.http = http
        }
    }

    public let options: Options
    let logger: Logger
    let state: Mutex<MasterState>
    let metrics = MasterMetrics()
    private let server: Mutex<FrameServer?> = Mutex(nil)
    private let operations: Mutex<OperationsServer?> = Mutex(nil)
    private let timer: Mutex<RepeatingTimer?> = Mutex(nil)

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
        self.state = Mutex(MasterState(settings: options.settings))
    }

    /// Starts listening and ticking. Returns the bound port.
    public func start() throws -> Int {
        let config = FrameServerConfig(
            host: options.host, port: options.port, serverId: "sluice-master",
            maxConnections: options.maxConnections, maxConnectionsPerPeer: options.maxConnectionsPerPeer,
            maxFrameBodyBytes: options.maxFrameBodyBytes,
            idleTimeoutMs: options.idleTimeoutMs,
            maxInFlightRequestsPerConnection: options.maxInFlightRequestsPerConnection)
        let frameServer = FrameServer(
            config: config, handler: MasterHandler(master: self), logger: logger,
            authenticator: ClusterAuthenticator.forCluster(
                secret: options.auth.secret, isRequired: options.auth.isRequired))
        let port = try frameServer.start()
        server.withLock { $0 = frameServer }
        if let http = options.http {
            let operationsServer = makeOperationsServer(http)
            do {
                _ = try operationsServer.start()
            } catch {
                stop()
                throw error
            }
            operations.withLock { $0 = operationsServer }
        }
        let repeating = RepeatingTimer(intervalMs: options.tickIntervalMs) { [weak self] in self?.tick() }
        timer.withLock { $0 = repeating }
        logger.info(
            "master listening",
            metadata: ["host": "\(options.host)", "port": "\(port)", "http.port": "\(httpPort ?? 0)"])
        return port
    }

    /// The bound port of the operations API (after `start()`; nil when it runs none).
    public var httpPort: Int? { operations.withLock { $0?.port } }

    /// Open data connections.
    var connectionCount: Int { server.withLock { $0?.connectionCount } ?? 0 }

    /// Stops the timer and the servers; open connections are closed.
    public func stop() {
        operations.withLock { current in
            current?.stop()
            current = nil
        }
        timer.withLock { current in
            current?.cancel()
            current = nil
        }
        let frameServer = server.withLock { current -> FrameServer? in
            defer { current = nil }
            return current
        }
        frameServer?.stop()
    }

    /// Runs expiry now (the timer calls this; tests may too).
    public func tick() {
        let now = Monotonic.nowMs()
        let events = state.withLock { $0.tick(nowMs: now) }
        for event in events {
            switch event {
            case .workerLost(let workerId):
                metrics.workersLost.increment()
                logger.warning("worker lost", metadata: ["worker.id": "\(workerId)"])
            case .adoptionOrdered(let lostWorkerId, let adopterId, let path):
                logger.warning(
                    "worker lost for good; another worker adopts its shared folder",
                    metadata: ["worker.id": "\(lostWorkerId)", "adopter.id": "\(adopterId)", "path": "\(path)"])
            case .applicationExpired(let applicationId, let shuffleCount):
                metrics.applicationsExpired.increment()
                logger.info(
                    "application expired",
                    metadata: ["application.id": "\(applicationId)", "shuffle.count": "\(shuffleCount)"])
            }
        }
    }

    /// A copy of the current state, for tests and the operations API.
    public var snapshot: MasterState { state.withLock { $0 } }
}
