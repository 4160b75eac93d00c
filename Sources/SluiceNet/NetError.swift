#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call or network operation: the `errno` value, the call's name and a message for humans.
/// Time-outs use `ETIMEDOUT`, a closed or lost connection `ECONNRESET`/`ENOTCONN`.
public struct NetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `errno` value (or a synthetic one such as `ETIMEDOUT` for time-outs).
    public var code: Int32
    /// The call or operation that failed, e.g. "connect" or "request".
    public var call: String
    /// What happened, for logs.
    public var message: String

    /// Creates an error from its parts.
    public init(code: Int32, call: String, message: String) {
        self.code = code
        self.call = call
        self.message = message
    }

    /// An error from the current `errno` after `call` failed.
    public static func fromErrno(_ call: String, _ code: Int32 = errno) -> NetError {
        NetError(code: code, call: call, message: String(cString: strerror(code)))
    }

    /// An operation that ran out of time.
    public static func timedOut(_ call: String, _ message: String) -> NetError {
        NetError(code: ETIMEDOUT, call: call, message: message)
    }

    /// The connection is closed or was lost.
    public static func connectionClosed(_ call: String, _ message: String = "connection closed") -> NetError {
        NetError(code: ECONNRESET, call: call, message: message)
    }

    /// True when this error is a time-out.
    public var isTimeout: Bool { code == ETIMEDOUT || code == EAGAIN || code == EWOULDBLOCK }

    /// Human-readable form: "call: message (errno N)".
    public var description: String { "\(call): \(message) (errno \(code))" }
}
