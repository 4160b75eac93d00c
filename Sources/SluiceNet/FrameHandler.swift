import SluiceCore

/// Serves the requests of a `FrameServer`. Called on the connection's own thread, one request at a time
/// per connection: reply at once with `connection.respond...`, or hand the work to another thread and
/// reply from there. Every request must be answered exactly once, even after its connection closed (the
/// reply is then dropped, but the request's memory-budget bytes and in-flight slot are released).
/// One-way frames (flag `.oneWay`) take no reply.
///
/// Blocking here blocks reading from this connection only. Throwing answers the request with the error's
/// status (`ProtocolError.status`, else `internalError`) unless it was already answered.
/// Unknown message types are the handler's to refuse (`unknownMessage`).
public protocol FrameHandler: Sendable {
    /// Handles one request received on `connection` (never `hello` or `ping`: the server answers those).
    func handle(request: Frame, on connection: ServerConnection) throws

    /// Called once on the connection's thread after the connection closed (after a successful handshake).
    func connectionClosed(_ connection: ServerConnection)
}

extension FrameHandler {
    /// Default: nothing to clean up.
    public func connectionClosed(_ connection: ServerConnection) {}
}
