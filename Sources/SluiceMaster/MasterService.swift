import SluiceSystem
import Synchronization

/// A `MasterServer` as a `Service`. The master has nothing to drain: its state is rebuilt from workers after a
/// restart, so every stop is immediate.
///
/// A separate object rather than a conformance of `MasterServer` itself: the server's `start()` returns the bound
/// port, and a second `start()` returning nothing would make every call of either ambiguous. This one records the
/// port for the process's "listening" line.
public final class MasterService: Service {
    /// The server this service starts and stops.
    public let server: MasterServer
    private let port = Mutex<Int?>(nil)

    /// Wraps `server`, which must not be started yet.
    public init(_ server: MasterServer) {
        self.server = server
    }

    /// "master", as in "master stopped".
    public var name: String { "master" }

    /// The bound port, once `start()` succeeded.
    public var boundPort: Int? { port.withLock { $0 } }

    /// Starts the server and records its port; a failed start leaves nothing running.
    public func start() throws {
        let bound = try server.start()
        port.withLock { $0 = bound }
    }

    /// Stops the server at once (`MasterServer.stop()`).
    public func stop() { server.stop() }
}
