import Glibc
import Synchronization

/// Runs closures on dedicated OS threads (one blocking thread per connection end, like Sluice's data path),
/// waits for all of them, and rethrows the first error any of them threw.
enum Threads {
    static func runAll(_ bodies: [@Sendable () throws -> Void]) throws {
        let errors = ErrorSink()
        var threads: [pthread_t] = []
        var startError: BenchError?
        for body in bodies {
            let box = Unmanaged.passRetained(ThreadBox { do { try body() } catch { errors.record(error) } })
            var thread = pthread_t()
            let started = pthread_create(
                &thread, nil,
                { raw in
                    guard let raw else { return nil }
                    Unmanaged<ThreadBox>.fromOpaque(raw).takeRetainedValue().run()
                    return nil
                }, box.toOpaque())
            guard started == 0 else {
                box.release()
                // Threads already started stop by themselves: their peers never appear, and stall timeouts
                // or end of stream end them.
                startError = BenchError.system("pthread_create", errno: started)
                break
            }
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
        if let startError { throw startError }
        if let first = errors.first { throw first }
    }
}

/// The closure a thread runs; passed to pthread_create as an opaque retained pointer.
private final class ThreadBox {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Collects errors thrown on worker threads.
private final class ErrorSink: Sendable {
    private let errors = Mutex<[any Error]>([])

    func record(_ error: any Error) { errors.withLock { $0.append(error) } }
    var first: (any Error)? { errors.withLock { $0.first } }
}

/// A total that several threads add to.
final class Tally: Sendable {
    private let total = Mutex<Int>(0)

    func add(_ value: Int) { total.withLock { $0 += value } }
    var value: Int { total.withLock { $0 } }
}
