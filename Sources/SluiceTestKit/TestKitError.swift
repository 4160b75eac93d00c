#if canImport(Glibc)
    import Glibc
#endif

/// A failure to set up what a test or benchmark needs (a directory, a socket, a child process).
public struct TestKitError: Error, CustomStringConvertible, Sendable {
    /// What failed, with the errno where a system call failed.
    public let description: String

    /// An error with this message.
    public init(_ description: String) { self.description = description }

    /// `call failed: errno N` with the calling thread's current errno.
    public static func system(_ call: String, errno number: Int32 = errno) -> TestKitError {
        TestKitError("\(call) failed: errno \(number) (\(String(cString: strerror(number))))")
    }
}

/// A condition that did not hold before its deadline.
public struct TimedOut: Error, CustomStringConvertible, Sendable {
    /// What was awaited.
    public let what: String

    /// A time-out while waiting for `what`.
    public init(what: String) { self.what = what }

    /// `timed out waiting for WHAT`.
    public var description: String { "timed out waiting for \(what)" }
}
