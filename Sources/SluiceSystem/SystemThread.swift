#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Starts detached POSIX threads with an explicit stack size (connection threads are many and shallow).
/// Callers track completion themselves (a counter and a condition), so nothing joins.
public enum SystemThread {
    /// Default stack for connection and accept threads.
    public static let defaultStackBytes = 512 * 1024

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread with a stack of `stackBytes`.
    public static func spawn(stackBytes: Int = defaultStackBytes, _ body: @escaping @Sendable () -> Void)
        throws(SystemCallError)
    {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, max(stackBytes, 64 * 1024))
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, &attributes,
            { raw in
                guard let raw else { return nil }
                let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
                box.body()
                return nil
            }, context)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(context).release()
            throw SystemCallError(errno: rc, call: "pthread_create")
        }
    }
}
