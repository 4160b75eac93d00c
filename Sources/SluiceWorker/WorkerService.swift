import Logging
import SluiceSystem
import Synchronization

/// A `WorkerServer` as a `Service`: draining refuses new pushes and waits until the worker holds no shuffle data.
///
/// A separate object rather than a conformance of `WorkerServer` itself: the server's `start()` returns the bound
/// port, and a second `start()` returning nothing would make every call of either ambiguous. This one records the
/// port for the process's "listening" line.
public final class WorkerService: Service {
    /// The server this service starts, drains and stops.
    public let server: WorkerServer
    private let port = Mutex<Int?>(nil)

    /// Wraps `server`, which must not be started yet.
    public init(_ server: WorkerServer) {
        self.server = server
    }

    /// "worker", as in "worker draining".
    public var name: String { "worker" }

    /// The bound data port, once `start()` succeeded.
    public var boundPort: Int? { port.withLock { $0 } }

    /// Starts the server; on failure stops what it started and closes the store.
    public func start() throws {
        do {
            let bound = try server.start()
            port.withLock { $0 = bound }
        } catch {
            server.stop()
            throw error
        }
    }

    /// Refuses new pushes (clients revive elsewhere) and tells the master; reads go on.
    public func beginDraining() { server.beginDraining() }

    /// True once the worker holds no shuffle files (the master has them deleted as their applications end).
    public var isDrained: Bool { server.heldShuffles.isEmpty }

    /// The reason logged when the worker drained.
    public var drainedReason: String { "no shuffle data left" }

    /// How many shuffles the worker still holds.
    public var drainProgress: Logger.Metadata { ["shuffles.held": "\(server.heldShuffles.count)"] }

    /// Stops the server at once (`WorkerServer.stop()`).
    public func stop() { server.stop() }
}
