import Dispatch
import SluiceCore
import SluiceSystem
import Synchronization
import Testing

@testable import SluiceNet

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ReceiveBufferTests {
    func body(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) &+ seed }
    }

    /// Writes `bodies` as frames into one end of a socket pair from another thread; returns the reading end.
    func feed(_ bodies: [[UInt8]]) throws -> (reader: FrameSocket, done: DispatchSemaphore) {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let writer = FrameSocket(fd: fds[0], peerAddress: "test-writer", system: PosixSystem())
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            for (index, body) in bodies.enumerated() {
                try? writer.write(Frame(type: 1, flags: .response, requestId: UInt64(index), body: body))
            }
            writer.close()
            done.signal()
        }
        return (FrameSocket(fd: fds[1], peerAddress: "test-reader", system: PosixSystem()), done)
    }

    @Test func largeBodiesAreReadIntoHandedBackArraysWithoutTouchingSharedOnes() throws {
        let sent = [
            body(2 << 20, seed: 1), body(1_500_000, seed: 2), body(3 << 20, seed: 3), body(100, seed: 4),
            body(1 << 20, seed: 5),
        ]
        let (socket, done) = try feed(sent)
        defer { socket.close() }
        let pool = ReceiveBufferPool(minimumBytes: 1 << 20, maxCount: 1)

        var first = try #require(try socket.readFrame(maxBodyBytes: 8 << 20, pool: pool)).body
        #expect(first == sent[0])
        pool.give(&first)
        #expect(first.isEmpty && pool.count == 1)

        var second = try #require(try socket.readFrame(maxBodyBytes: 8 << 20, pool: pool)).body
        #expect(pool.reusedCount == 1, "read into the handed-back array")
        #expect(second == sent[1], "shrunk to the new length")
        // Someone still holds the body when it is handed back: the next read must not overwrite it.
        let stillHeld = second
        pool.give(&second)
        let third = try #require(try socket.readFrame(maxBodyBytes: 8 << 20, pool: pool)).body
        #expect(pool.reusedCount == 2)
        #expect(third == sent[2], "grown to the new length")
        #expect(stillHeld == sent[1], "copied on write, not overwritten")

        var small = try #require(try socket.readFrame(maxBodyBytes: 8 << 20, pool: pool)).body
        #expect(small == sent[3])
        pool.give(&small)
        #expect(pool.count == 0, "small bodies are not kept")
        let last = try #require(try socket.readFrame(maxBodyBytes: 8 << 20, pool: pool)).body
        #expect(last == sent[4])
        #expect(pool.reusedCount == 2, "nothing was kept to read into")
        #expect(try socket.readFrame(maxBodyBytes: 8 << 20, pool: pool) == nil)
        done.wait()
    }

    func address(_ bytes: [UInt8]) -> UInt {
        bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }

    /// A body allocated as the pool asks, holding `count` bytes of 9.
    func pooledBody(_ pool: ReceiveBufferPool, count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: pool.allocationBytes(for: count)) { buffer, initialized in
            buffer.initialize(repeating: 9)
            initialized = count
        }
    }

    /// Pushes from clients and the slightly shorter ones forwarded by other primaries share a worker's pool: a longer
    /// body must reuse a kept shorter one in place (no new pages), and a take must prefer a kept body with room.
    @Test func aSlightlyLongerBodyReusesAKeptOneInPlace() throws {
        let pool = ReceiveBufferPool(minimumBytes: 1_000, maxCount: 4)
        let count = 1_000_000
        let capacity = pool.allocationBytes(for: count)
        #expect(capacity >= count && capacity % ReceiveBufferPool.capacityStepBytes == 0)
        #expect(pool.allocationBytes(for: 999) == 999, "bodies the pool does not keep get no room to spare")

        var big = pooledBody(pool, count: count)
        let bigAddress = address(big)
        var small = pooledBody(pool, count: 5_000)
        pool.give(&big)
        pool.give(&small)
        let longer = try #require(pool.take(count: count + 2_000))
        #expect(address(longer) == bigAddress, "the kept body with room, resized in place")
        #expect(longer.count == count + 2_000)
        #expect(longer[..<count].allSatisfy { $0 == 9 } && longer[count...].allSatisfy { $0 == 0 })
        #expect(pool.count == 1)
    }

    @Test func thePoolKeepsAtMostItsCount() {
        let pool = ReceiveBufferPool(minimumBytes: 10, maxCount: 2)
        for _ in 0..<5 {
            var body = [UInt8](repeating: 7, count: 64)
            pool.give(&body)
        }
        #expect(pool.count == 2)
        #expect(pool.take(count: 5) == nil, "below the minimum")
        #expect(pool.take(count: 64) == [UInt8](repeating: 7, count: 64))
        #expect(pool.count == 1)
    }

    @Test func thePoolKeepsAtMostItsBytes() {
        let pool = ReceiveBufferPool(minimumBytes: 10, maxCount: .max, maxPooledBytes: 1_000)
        var given = 0
        for _ in 0..<10 {
            var body = [UInt8](repeating: 7, count: 300)
            given += body.capacity
            pool.give(&body)
        }
        #expect(pool.pooledBytes <= 1_000 && pool.count >= 1 && pool.count < 10, "\(pool.count) kept")
        let before = pool.pooledBytes
        #expect(pool.take(count: 300) == [UInt8](repeating: 7, count: 300))
        #expect(pool.pooledBytes < before, "a taken body leaves the count")
    }

    /// Keeps every request and answers it with its body, so each body is still held when the answer hands it to the
    /// pool, as a handler still finishing with a body it has answered (a replica forward in flight) holds it. Kept
    /// before answering: kept after, the test could read the list between the last answer and the last keep.
    final class RetainingEchoHandler: FrameHandler {
        let kept = Mutex<[Frame]>([])
        func handle(request: Frame, on connection: ServerConnection) throws {
            kept.withLock { $0.append(request) }
            connection.respond(to: request, body: request.body)
        }
    }

    /// A server reads large request bodies into those of requests it answered, and a body a handler still holds is
    /// copied on write, never overwritten: every reply and every kept request equals what was sent.
    @Test(arguments: [false, true])
    func aServerReadsIntoAnsweredBodiesAndNeverOverwritesHeldOnes(handlerKeepsBodies: Bool) throws {
        let pool = ReceiveBufferPool(minimumBytes: 64 << 10, maxCount: .max, maxPooledBytes: 8 << 20)
        let retaining = RetainingEchoHandler()
        let handler: any FrameHandler = handlerKeepsBodies ? retaining : EchoHandler()
        let (server, port) = try startServer(handler) { $0.receiveBuffers = pool }
        defer { server.stop() }
        let client = try connectClient(port)
        defer { client.close() }
        let sent = (0..<8).map { body((256 << 10) + $0 * 1_000, seed: UInt8($0)) }
        for request in sent {
            let reply = try client.call(type: .pushBatch, body: request)
            #expect(reply.body == request)
        }
        #expect(pool.reusedCount >= 6, "answered bodies were read into again: \(pool.reusedCount)")
        #expect(pool.pooledBytes <= 8 << 20)
        if handlerKeepsBodies {
            #expect(retaining.kept.withLock { $0.map(\.body) } == sent, "held bodies were not overwritten")
        }
    }
}
