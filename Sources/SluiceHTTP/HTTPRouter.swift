/// Handles one request synchronously; must be quick (it runs on the connection's queue) and must not block.
public typealias HTTPHandler = @Sendable (HTTPRequest) -> HTTPResponse

/// Routes by method and path: exact paths and patterns whose `{name}` segments match any one non-empty
/// segment ("/api/v1/workers/{id}/decommission"). 404 for a path no route matches, 405 (with Allow) for a path
/// matched only under other methods. HEAD falls back to the GET route (the server sends no body for HEAD).
public struct HTTPRouter: Sendable {
    private enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    private struct Route: Sendable {
        var method: String
        var segments: [Segment]
        var handler: HTTPHandler
        var parameterCount: Int { segments.filter { if case .parameter = $0 { true } else { false } }.count }
    }

    private var routes: [Route] = []

    /// An empty router: every request gets 404.
    public init() {}

    /// Adds a route. `pattern` starts with "/"; a segment `{name}` captures that segment into
    /// `request.pathParameters[name]`. When two routes match, the one with fewer parameters wins.
    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping HTTPHandler) {
        let segments = HTTPRouter.split(pattern).map { part -> Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(part)
        }
        routes.append(Route(method: method, segments: segments, handler: handler))
    }

    /// Answers `request` with its route's handler, or 404/405.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        let parts = HTTPRouter.split(request.path)
        var best: (route: Route, parameters: [String: String])?
        var allowed: Set<String> = []
        for route in routes {
            guard let parameters = HTTPRouter.match(route.segments, parts) else { continue }
            allowed.insert(route.method)
            let methodMatches =
                route.method == request.method
                || (request.method == "HEAD" && route.method == "GET"
                    && !routes.contains { $0.method == "HEAD" && HTTPRouter.match($0.segments, parts) != nil })
            guard methodMatches else { continue }
            if best == nil || route.parameterCount < (best?.route.parameterCount ?? Int.max) {
                best = (route, parameters)
            }
        }
        if let (route, parameters) = best {
            var routed = request
            routed.pathParameters = parameters
            return route.handler(routed)
        }
        if allowed.isEmpty { return .text(404, "not found\n") }
        var response = HTTPResponse.text(405, "method not allowed\n")
        response.headers.append(HTTPHeader("allow", allowed.sorted().joined(separator: ", ")))
        return response
    }

    private static func split(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    private static func match(_ segments: [Segment], _ parts: [String]) -> [String: String]? {
        guard segments.count == parts.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text): guard text == part else { return nil }
            case .parameter(let name): parameters[name] = part
            }
        }
        return parameters
    }
}
