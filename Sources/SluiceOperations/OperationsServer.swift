import Logging
import Prometheus
import SluiceAuth
import SluiceConfig
import SluiceCore
import SluiceHTTP
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

/// Whether a server should get traffic, and if not, why (the body of `/readyz`).
public struct Readiness: Sendable, Equatable {
    /// True when the server should get new work.
    public var isReady: Bool
    /// Why not, one line each.
    public var reasons: [String]

    /// Ready, or not for `reasons`.
    public init(isReady: Bool, reasons: [String] = []) {
        self.isReady = isReady
        self.reasons = reasons
    }
}

/// A server's operations API on its own port: `GET /healthz` (the process serves), `GET /readyz`, `GET /metrics`
/// (Prometheus text from the server's own registry, refreshed just before each scrape), `GET /version`, and the
/// JSON routes the server adds under `/api/v1`. HTTP/1.1 and HTTP/2 through `SluiceHTTP`.
public final class OperationsServer: Sendable {
    private let server: HTTPServer

    /// - Parameters:
    ///   - serverName: `sluice-master` or `sluice-worker`, reported by `/version`.
    ///   - registry: where the server's metrics live; `refreshMetrics` sets its gauges before a scrape.
    ///   - readiness: asked on every `/readyz`.
    ///   - routes: the server's own routes (`/api/v1/...`); the common ones are added to them.
    public init(
        settings: HTTPSettings, host: String, serverName: String, registry: PrometheusCollectorRegistry,
        refreshMetrics: @escaping @Sendable () -> Void, readiness: @escaping @Sendable () -> Readiness,
        routes: HTTPRouter = HTTPRouter(), logger: Logger,
        system: any SystemCalls = PosixSystem()
    ) {
        var router = routes
        router.add("GET", "/healthz") { _ in .text(200, "ok\n") }
        router.add("GET", "/readyz") { _ in
            let state = readiness()
            return state.isReady ? .text(200, "ready\n") : .text(503, state.reasons.joined(separator: "\n") + "\n")
        }
        router.add("GET", "/version") { _ in
            JSONBody.response(VersionReport(name: serverName, version: SluiceVersion.current))
        }
        router.add("GET", "/metrics") { _ in
            refreshMetrics()
            return HTTPResponse(
                status: 200, headers: [HTTPHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                body: registry.emitToBuffer())
        }
        let config = HTTPServerConfig(
            host: host, port: settings.port, maxConnections: settings.maxConnections,
            maxHeaderBytes: settings.maxHeaderBytes, maxBodyBytes: settings.maxBodyBytes,
            maxConcurrentStreams: settings.maxConcurrentStreams, idleTimeoutMs: settings.idleTimeoutMs,
            requestTimeoutMs: settings.requestTimeoutMs, listenBacklog: 128, stopTimeoutMs: 3_000)
        server = HTTPServer(config: config, router: router, logger: logger, system: system)
    }

    /// `handler` behind the admin checks. With a cluster secret (`verifier`), the request must be signed with the
    /// admin key (see `RequestSigner`); with `httpAdminToken`, a mutating request may instead carry
    /// `Authorization: Bearer TOKEN`. A read-only request needs only the signature, and only with a secret. Anything
    /// else gets 401 and does nothing.
    public static func admin(
        token: String, verifier: RequestVerifier?, readOnly: Bool = false, _ handler: @escaping HTTPHandler
    ) -> HTTPHandler {
        let bearer = token.isEmpty || readOnly ? nil : "Bearer " + token
        guard verifier != nil || bearer != nil else { return handler }
        return { request in
            let authorization = request.header("authorization")
            if let bearer, authorization == bearer { return handler(request) }
            guard let verifier else {
                return unauthorized("an admin request needs Authorization: Bearer <httpAdminToken>\n", "Bearer")
            }
            let target = request.query.isEmpty ? request.path : request.path + "?" + request.query
            if let refusal = verifier.refusal(
                authorization: authorization, method: request.method, path: target, body: request.body,
                unixSeconds: Int64(time(nil)))
            {
                return unauthorized(refusal + "\n", RequestSigner.scheme)
            }
            return handler(request)
        }
    }

    private static func unauthorized(_ message: String, _ scheme: String) -> HTTPResponse {
        HTTPResponse(status: 401, headers: [HTTPHeader("www-authenticate", scheme)], body: Array(message.utf8))
    }

    /// Starts listening; returns the bound port.
    public func start() throws(SystemCallError) -> Int { try server.start() }

    /// The bound port once started.
    public var port: Int? { server.port }

    /// Closes the listener and every connection.
    public func stop() { _ = server.stop() }
}

/// What `/version` answers.
struct VersionReport: Encodable {
    var name: String
    var version: String
}
