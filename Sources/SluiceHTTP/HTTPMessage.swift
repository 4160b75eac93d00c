/// One header field. Names are kept as received for HTTP/1.1 and compared case-insensitively.
public struct HTTPHeader: Sendable, Equatable {
    /// The field name.
    public var name: String
    /// The field value, without surrounding whitespace.
    public var value: String

    /// Creates a header field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A complete request as a handler sees it, whichever protocol carried it.
public struct HTTPRequest: Sendable {
    /// "GET", "POST", ... (case-sensitive, as sent).
    public var method: String
    /// The path of the target, without the query ("/api/v1/workers").
    public var path: String
    /// What followed "?" in the target, or "" when there was none.
    public var query: String
    /// Header fields in the order received (HTTP/2 pseudo-headers excluded).
    public var headers: [HTTPHeader]
    /// The body (empty when there was none).
    public var body: [UInt8]
    /// "1.0", "1.1" or "2".
    public var version: String
    /// Values of the route's `{name}` segments; set by the router.
    public var pathParameters: [String: String]

    /// Creates a request.
    public init(
        method: String, path: String, query: String = "", headers: [HTTPHeader] = [], body: [UInt8] = [],
        version: String = "1.1", pathParameters: [String: String] = [:]
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.version = version
        self.pathParameters = pathParameters
    }

    /// The first value of header `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// What a handler answers: status, headers and body. The server adds Content-Length (and the HTTP/1.1
/// Connection header) itself.
public struct HTTPResponse: Sendable, Equatable {
    /// The status code, e.g. 200.
    public var status: Int
    /// Header fields to send (names lower-case for HTTP/2's sake; connection-specific ones are dropped there).
    public var headers: [HTTPHeader]
    /// The body.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain` response with `text` as its body.
    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: [HTTPHeader("content-type", "text/plain; charset=utf-8")],
            body: Array(text.utf8))
    }

    /// The standard reason phrase of `status`, or "Status" for codes without one here.
    public static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }
}
