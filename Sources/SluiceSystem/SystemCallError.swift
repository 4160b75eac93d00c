#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call: the call's name, the errno it set and, when the failure is not the call's own errno
/// (a file that ended early, a zero-byte transfer), what happened instead.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call that failed, e.g. "pwrite" or "sendfile"; empty when unknown.
    public var call: String
    /// The errno the call set (or a synthetic one such as EIO for a transfer that stopped short).
    public var errno: Int32
    /// Why, when it is not just the errno's text; empty otherwise.
    public var cause: String

    /// Wraps an errno value from `call`.
    public init(errno: Int32, call: String = "", cause: String = "") {
        self.errno = errno
        self.call = call
        self.cause = cause
    }

    /// True for EAGAIN/EWOULDBLOCK: a non-blocking call had nothing to do, or a socket time-out expired.
    public var isWouldBlock: Bool { errno == EAGAIN || errno == EWOULDBLOCK }

    /// `strerror` text plus the number.
    public var errnoDescription: String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        return "\(String(cString: text)) (errno \(errno))"
    }

    /// "call: text (errno N): cause".
    public var description: String {
        var text = call.isEmpty ? errnoDescription : "\(call): \(errnoDescription)"
        if !cause.isEmpty { text += ": \(cause)" }
        return text
    }
}

/// The one loop around raw system calls: retries `EINTR`, and traps on `EBADF`/`EFAULT`, which mean the
/// process passed a closed descriptor or a bad pointer (a bug that could otherwise write into a file some other
/// thread has just opened with the same number).
public enum Posix {
    /// Runs `body` until it does not fail with `EINTR`; a negative result throws the errno as `call`'s error.
    @discardableResult
    public static func retrying<T: BinaryInteger>(_ call: String, _ body: () -> T) throws(SystemCallError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            precondition(
                code != EBADF && code != EFAULT, "\(call) failed with errno \(code): a descriptor or pointer bug")
            throw SystemCallError(errno: code, call: call)
        }
    }

    /// Like `retrying`, for calls that return 0 on success and the error number itself (pthread style).
    public static func checking(_ call: String, _ body: () -> Int32) throws(SystemCallError) {
        while true {
            let code = body()
            if code == 0 { return }
            if code == EINTR { continue }
            throw SystemCallError(errno: code, call: call)
        }
    }
}
