/// An error on the wire or in a stored header: a status code the peer can see, and a message for humans.
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: StatusCode
    public var message: String

    public init(_ status: StatusCode, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status): \(message)" }
}
