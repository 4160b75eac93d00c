import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceNet

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct FileAndBudgetTests {
    /// Replies with a 3-byte prefix and a range of a file given as (offset u64, length u32) in the body.
    struct FileHandler: FrameHandler {
        let fd: Int32
        func handle(request: Frame, on connection: ServerConnection) throws {
            var reader = WireReader(request.body)
            let offset = Int64(try reader.readU64())
            let length = Int(try reader.readU32())
            connection.respondWithFile(
                to: request, prefix: [0xA, 0xB, 0xC], fileDescriptor: fd, offset: offset,
                length: length)
        }
    }

    @Test func respondWithFileSendsTheRangeIntact() throws {
        let path = "/tmp/sluice-net-test-\(getpid())-\(Monotonic.nowNs()).bin"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        defer {
            close(fd)
            unlink(path)
        }
        let content = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        let written = content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        try #require(written == content.count)

        let (server, port) = try startServer(FileHandler(fd: fd))
        defer { server.stop() }
        let client = try connectClient(port)
        defer { client.close() }
        for (offset, length) in [(0, 0), (1, 100), (12_345, 2_500_000), (content.count - 10, 10)] {
            var request = WireWriter()
            request.writeU64(UInt64(offset))
            request.writeU32(UInt32(length))
            let reply = try client.call(type: .fetchChunk, body: request.bytes)
            #expect(reply.body.count == 3 + length)
            #expect(Array(reply.body.prefix(3)) == [0xA, 0xB, 0xC])
            #expect(reply.body.dropFirst(3).elementsEqual(content[offset..<(offset + length)]))
        }
        // A range past the end of the file breaks the frame: that connection closes, the server lives on.
        var bad = WireWriter()
        bad.writeU64(UInt64(content.count - 5))
        bad.writeU32(100)
        #expect(throws: NetError.self) { _ = try client.call(type: .fetchChunk, body: bad.bytes) }
        let other = try connectClient(port)
        defer { other.close() }
        #expect(try other.call(type: .ping, body: []).isResponse)
    }

    @Test func budgetReturnsToZeroIncludingDeadConnections() throws {
        let budget = MemoryBudget(capacityBytes: 1 << 20)
        let handler = HoldingHandler()
        let (server, port) = try startServer(handler) { $0.memoryBudget = budget }
        defer { server.stop() }

        let survivor = try connectClient(port)
        defer { survivor.close() }
        let doomed = try connectClient(port)
        for _ in 0..<5 {
            survivor.send(type: .pushBatch, body: [UInt8](repeating: 1, count: 1_000)) { _ in }
            doomed.send(type: .pushBatch, body: [UInt8](repeating: 2, count: 3_000)) { _ in }
        }
        #expect(waitUntil(timeoutMs: 5_000) { handler.heldCount == 10 })
        #expect(budget.usedBytes == 5 * 1_000 + 5 * 3_000)

        // A connection dying mid-frame never accounts its partial body.
        let peer = try RawConnection(port: port)
        try peer.sendHello()
        _ = try #require(try peer.nextFrame())
        try peer.sendAll(FrameHeader(bodyLength: 50_000, type: 0x30, flags: [], requestId: 1).encoded + [1, 2, 3])
        peer.shutdownWrite()
        #expect(peer.seesEndOfStream())

        doomed.close()
        #expect(waitUntil(timeoutMs: 5_000) { handler.closedConnections.load(ordering: .sequentiallyConsistent) == 2 })
        #expect(budget.usedBytes == 20_000)
        handler.release()  // answers to the dead connection still release their bytes
        #expect(budget.usedBytes == 0)
        #expect(try survivor.call(type: .ping, body: []).isResponse)
        #expect(budget.usedBytes == 0)
    }

    @Test func readerWaitsWhileBudgetIsPaused() throws {
        let budget = MemoryBudget(capacityBytes: 10_000, highFraction: 0.5, lowFraction: 0.2)
        let handler = HoldingHandler()
        let (server, port) = try startServer(handler) { $0.memoryBudget = budget }
        defer { server.stop() }
        let client = try connectClient(port)
        defer { client.close() }
        let answered = Counter()
        for _ in 0..<8 {
            client.send(type: .pushBatch, body: [UInt8](repeating: 0, count: 2_000)) { result in
                if case .success = result { answered.increment() }
            }
        }
        // 3 bodies (6,000 bytes) pass the high watermark (5,000): the reader parks before the 4th body.
        #expect(waitUntil(timeoutMs: 5_000) { handler.heldCount == 3 && budget.isPaused })
        #expect(throws: NetError.self) { _ = try client.call(type: .ping, body: [], timeoutMs: 200) }
        #expect(handler.heldCount == 3)
        #expect(
            waitUntil(timeoutMs: 5_000) {
                handler.release()
                return answered.value == 8
            })
        #expect(budget.usedBytes == 0)
    }

    /// Sixteen connections whose readers wait on a paused budget are all woken when it resumes. Each reserves its
    /// body before reading it, so together they pass the high watermark by at most one body; readers that only
    /// checked "not paused" before reading would all read theirs (16 bodies, 3.2 times the high watermark).
    @Test func readersWokenTogetherPassTheHighWatermarkByOneBodyAtMost() throws {
        let body = 10_000
        let budget = MemoryBudget(capacityBytes: 100_000, highFraction: 0.5, lowFraction: 0.2)
        budget.acquire(budget.highWatermarkBytes)  // paused before any body arrives
        let handler = HoldingHandler()
        let (server, port) = try startServer(handler) { $0.memoryBudget = budget }
        defer { server.stop() }
        let clients = try (0..<16).map { _ in try connectClient(port) }
        defer { for client in clients { client.close() } }
        let answered = Counter()
        for client in clients {
            client.send(type: .pushBatch, body: [UInt8](repeating: 7, count: body)) { result in
                if case .success = result { answered.increment() }
            }
        }
        #expect(waitUntil(timeoutMs: 5_000) { server.connectionCount == 16 })
        #expect(handler.heldCount == 0 && budget.isPaused)
        budget.release(budget.highWatermarkBytes)
        #expect(waitUntil(timeoutMs: 5_000) { handler.heldCount == 5 && budget.isPaused })
        #expect(budget.peakBytes <= budget.highWatermarkBytes + body)
        #expect(
            waitUntil(timeoutMs: 5_000) {
                handler.release()
                return answered.value == 16
            })
        #expect(budget.peakBytes <= budget.highWatermarkBytes + body)
        #expect(budget.usedBytes == 0)
    }
}
