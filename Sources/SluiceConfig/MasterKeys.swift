/// Keys read by `sluice-master`.
public enum MasterKeys {
    private static let day = 86_400_000

    /// `master.host`.
    public static let host = ConfigKey<String>(
        "master.host", .string(allowEmpty: false), default: "0.0.0.0", scope: .master,
        doc: "Address the master listens on: 0.0.0.0 takes IPv4, :: IPv4 and IPv6, or one address.")
    /// `master.port`.
    public static let port = ConfigKey<Int>(
        "master.port", .int(min: 0, max: 65535), default: "9097", scope: .master,
        doc: "TCP port the master listens on (0 = any free port, for tests).")
    /// `master.httpPort`.
    public static let httpPort = ConfigKey<Int>(
        "master.httpPort", .int(min: 0, max: 65535), default: "9099", scope: .master,
        doc: "TCP port of the master's operations API: /healthz, /readyz, /metrics, /version, /api/v1 (0 = any).")
    /// `master.workerHeartbeatTimeout`.
    public static let workerHeartbeatTimeout = ConfigKey<Int>(
        "master.workerHeartbeatTimeout", .milliseconds(min: 1000, max: 3_600_000), default: "30s", unit: "ms",
        scope: .master, doc: "A worker silent for this long is declared lost and gets no new partitions.")
    /// `master.workerHeartbeatInterval`.
    public static let workerHeartbeatInterval = ConfigKey<Int>(
        "master.workerHeartbeatInterval", .milliseconds(min: 100, max: 600_000), default: "10s", unit: "ms",
        scope: .master, doc: "Heartbeat interval the master tells workers to use when they register.")
    /// `master.applicationTimeout`.
    public static let applicationTimeout = ConfigKey<Int>(
        "master.applicationTimeout", .milliseconds(min: 1000, max: day), default: "5m", unit: "ms",
        scope: .master, doc: "An application silent for this long is presumed dead; its shuffles are unregistered.")
    /// `master.applicationCheckInterval`.
    public static let applicationCheckInterval = ConfigKey<Int>(
        "master.applicationCheckInterval", .milliseconds(min: 100, max: 3_600_000), default: "10s", unit: "ms",
        scope: .master, doc: "How often the master scans for timed-out applications and lost workers.")
    /// `master.maxConnections`.
    public static let maxConnections = ConfigKey<Int>(
        "master.maxConnections", .int(min: 1, max: 65536), default: "1024", unit: "connections",
        scope: .master, doc: "Connections beyond this many are refused at accept.")
    /// `master.maxFrameBodySize`.
    public static let maxFrameBodySize = ConfigKey<Int>(
        "master.maxFrameBodySize", .bytes(min: 4096, max: 1 << 30), default: "64MiB", unit: "bytes",
        scope: .master, doc: "Frames announcing a larger body are rejected before any allocation.")
    /// `master.maxInFlightRequestsPerConnection`.
    public static let maxInFlightRequestsPerConnection = ConfigKey<Int>(
        "master.maxInFlightRequestsPerConnection", .int(min: 1, max: 65536), default: "64", unit: "requests",
        scope: .master, doc: "A connection is not read while this many of its requests await an answer.")
    /// `master.idleTimeout`.
    public static let idleTimeout = ConfigKey<Int>(
        "master.idleTimeout", .milliseconds(min: 0, max: day), default: "10m", unit: "ms",
        scope: .master, doc: "Connections with no traffic for this long are closed (0 = never).")
    /// `master.deletedShuffleRetention`.
    public static let deletedShuffleRetention = ConfigKey<Int>(
        "master.deletedShuffleRetention", .milliseconds(min: 0, max: 7 * day), default: "10m", unit: "ms",
        scope: .master, doc: "How long tombstones of unregistered shuffles are kept so late requests fail clearly.")

    /// `master.maxConnectionsPerPeer`.
    public static let maxConnectionsPerPeer = ConfigKey<Int>(
        "master.maxConnectionsPerPeer", .int(min: 1, max: 65536), default: "512", unit: "connections",
        scope: .master,
        doc: "Connections one remote IP address may hold open at once; an extra one is closed at accept. Executors "
            + "sharing a host (or a NAT) share this.")
    /// `master.maxPartitionsPerShuffle`.
    public static let maxPartitionsPerShuffle = ConfigKey<Int>(
        "master.maxPartitionsPerShuffle", .int(min: 1, max: 1 << 24), default: "200000", unit: "partitions",
        scope: .master,
        doc: "Largest numPartitions a shuffle may register with (invalidArgument beyond): a shuffle's table is "
            + "12 bytes and its master record about 100 bytes per partition, placed in one request.")
    /// `master.maxMappersPerShuffle`.
    public static let maxMappersPerShuffle = ConfigKey<Int>(
        "master.maxMappersPerShuffle", .int(min: 1, max: Int(Int32.max)), default: "1000000", unit: "mappers",
        scope: .master, doc: "Largest numMappers a shuffle may register with (invalidArgument beyond).")
    /// `master.maxApplications`.
    public static let maxApplications = ConfigKey<Int>(
        "master.maxApplications", .int(min: 1, max: 10_000_000), default: "10000", unit: "applications",
        scope: .master,
        doc: "Live applications the master tracks; a new one beyond is refused with limitExceeded until others end "
            + "(applications relearned from workers' reports are never refused).")
    /// `master.maxShufflesPerApplication`.
    public static let maxShufflesPerApplication = ConfigKey<Int>(
        "master.maxShufflesPerApplication", .int(min: 1, max: 10_000_000), default: "10000", unit: "shuffles",
        scope: .master,
        doc: "Registered (not yet unregistered) shuffles of one application; a new one beyond is refused with "
            + "limitExceeded.")
    /// `master.maxWorkers`.
    public static let maxWorkers = ConfigKey<Int>(
        "master.maxWorkers", .int(min: 1, max: 65_534), default: "10000", unit: "workers",
        scope: .master,
        doc: "Workers the master knows, lost ones included (a new one replaces the longest-lost); a new worker beyond "
            + "is refused with limitExceeded. At most 65,534: location tables index workers with 16 bits.")

    /// `master.workerAdoptionDelay`.
    public static let workerAdoptionDelay = ConfigKey<Int>(
        "master.workerAdoptionDelay", .milliseconds(min: 0, max: day), default: "10m", unit: "ms", scope: .master,
        doc: "A worker lost for this long after its heartbeat time-out (at once when decommissioned) is lost for good: "
            + "another worker mounting the same fsx directory adopts its fsx files and serves them.")

    /// Every master key, in documentation order.
    public static let all: [ConfigKeySpec] = [
        host.spec, port.spec, httpPort.spec, workerHeartbeatTimeout.spec, workerHeartbeatInterval.spec,
        applicationTimeout.spec,
        applicationCheckInterval.spec, maxConnections.spec, maxFrameBodySize.spec,
        maxInFlightRequestsPerConnection.spec, idleTimeout.spec, deletedShuffleRetention.spec,
        maxConnectionsPerPeer.spec, maxPartitionsPerShuffle.spec, maxMappersPerShuffle.spec, maxApplications.spec,
        maxShufflesPerApplication.spec, maxWorkers.spec, workerAdoptionDelay.spec,
    ]
}

/// Keys read by both processes.
public enum SharedKeys {
    /// `logLevel`.
    public static let logLevel = ConfigKey<LogLevel>(
        "logLevel", .choice(LogLevel.allCases.map(\.rawValue)), default: "info", scope: .both,
        doc: "Minimum level of log messages written to standard error.")

    /// `httpMaxConnections`.
    public static let httpMaxConnections = ConfigKey<Int>(
        "httpMaxConnections", .int(min: 1, max: 100_000), default: "1024", unit: "connections", scope: .both,
        doc: "Connections the operations API (health, metrics, JSON) keeps open at once; more are closed.")
    /// `httpMaxHeaderSize`.
    public static let httpMaxHeaderSize = ConfigKey<Int>(
        "httpMaxHeaderSize", .bytes(min: 1024, max: 1 << 20), default: "16KiB", unit: "bytes", scope: .both,
        doc: "Largest request line and headers of an operations API request (431 beyond).")
    /// `httpMaxBodySize`.
    public static let httpMaxBodySize = ConfigKey<Int>(
        "httpMaxBodySize", .bytes(min: 0, max: 64 << 20), default: "64KiB", unit: "bytes", scope: .both,
        doc: "Largest operations API request body (413 beyond).")
    /// `httpMaxConcurrentStreams`.
    public static let httpMaxConcurrentStreams = ConfigKey<Int>(
        "httpMaxConcurrentStreams", .int(min: 1, max: 1000), default: "32", unit: "streams", scope: .both,
        doc: "HTTP/2 streams one operations API connection may have open at once.")
    /// `httpIdleTimeout`.
    public static let httpIdleTimeout = ConfigKey<Int>(
        "httpIdleTimeout", .milliseconds(min: 100, max: 3_600_000), default: "2m", unit: "ms", scope: .both,
        doc: "An operations API connection with nothing in progress is closed after this long.")
    /// `httpRequestTimeout`.
    public static let httpRequestTimeout = ConfigKey<Int>(
        "httpRequestTimeout", .milliseconds(min: 100, max: 600_000), default: "10s", unit: "ms", scope: .both,
        doc: "An operations API request begun and not complete within this long is dropped (slow clients).")

    /// `httpAdminToken`.
    public static let httpAdminToken = ConfigKey<String>(
        "httpAdminToken", .string(allowEmpty: true), default: "", scope: .both, secret: true,
        doc: "Bearer token the operations API's POST requests (decommission, recommission) must carry; empty: none "
            + "(set it, from a Kubernetes Secret through SLUICE_HTTP_ADMIN_TOKEN, wherever the port is reachable).")

    /// `clusterSecret`.
    public static let clusterSecret = ConfigKey<String>(
        "clusterSecret", .string(allowEmpty: true), default: "", scope: .both, secret: true,
        doc: "The secret the master and workers share (at least 32 bytes); turns on authenticated handshakes on every "
            + "port and per-application tokens. Give it through SLUICE_CLUSTER_SECRET from a Kubernetes Secret, or "
            + "use clusterSecretFile; empty: no authentication (see docs/security.md).")
    /// `clusterSecretFile`.
    public static let clusterSecretFile = ConfigKey<String>(
        "clusterSecretFile", .string(allowEmpty: true), default: "", scope: .both,
        doc: "Path of a file holding the cluster secret (a mounted Kubernetes Secret); surrounding white space is "
            + "ignored. Exclusive with clusterSecret.")
    /// `authRequired`.
    public static let authRequired = ConfigKey<Bool>(
        "authRequired", .bool, default: "true", scope: .both,
        doc: "With a cluster secret: refuse every peer that does not authenticate. Set false only while rolling a "
            + "secret out (servers first, then clients, then true); unauthenticated peers are then unrestricted.")

    /// `logFormat`.
    public static let logFormat = ConfigKey<String>(
        "logFormat", .choice(["text", "json"]), default: "text", scope: .both,
        doc: "Log lines on standard error: text for people, json (one object per line) for Fluent Bit or CloudWatch.")

    /// Every shared key, in documentation order.
    public static let all: [ConfigKeySpec] = [
        logLevel.spec, logFormat.spec, clusterSecret.spec, clusterSecretFile.spec, authRequired.spec,
        httpAdminToken.spec, httpMaxConnections.spec, httpMaxHeaderSize.spec,
        httpMaxBodySize.spec,
        httpMaxConcurrentStreams.spec, httpIdleTimeout.spec, httpRequestTimeout.spec,
    ]
}
