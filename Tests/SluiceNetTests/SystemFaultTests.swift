import SluiceCore
import SluiceSystem
import SluiceTestKit
import Testing

@testable import SluiceNet

#if canImport(Glibc)
    import Glibc
#endif

/// Faults injected into the server's system calls: a failing disk under sendfile, short transfers, interrupts.
@Suite struct SystemFaultTests {
    /// A file of `count` patterned bytes, removed by `remove()`.
    struct PatternFile {
        let path: String
        let fd: Int32
        let content: [UInt8]

        init(count: Int) throws {
            path = "/tmp/sluice-net-fault-\(getpid())-\(Monotonic.nowNs()).bin"
            fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
            try #require(fd >= 0)
            content = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 9) }
            try PosixSystem().writeFully(fd: fd, slice: content[...], offsetBytes: 0)
        }

        func remove() {
            close(fd)
            unlink(path)
        }
    }

    static func fetch(_ client: FrameClient, offset: Int, length: Int) throws -> Frame {
        var request = WireWriter()
        request.writeU64(UInt64(offset))
        request.writeU32(UInt32(length))
        return try client.call(type: .fetchChunk, body: request.bytes)
    }

    @Test func eioFromSendfileFailsThatReplyAndOnlyThatConnection() throws {
        let file = try PatternFile(count: 1 << 20)
        defer { file.remove() }
        let system = FaultInjectingSystem()
        let (server, port) = try startServer(FileAndBudgetTests.FileHandler(fd: file.fd), system: system)
        defer { server.stop() }

        let healthy = try connectClient(port)
        defer { healthy.close() }
        #expect(try healthy.call(type: .ping, body: []).isResponse)

        system.fail(.sendfile, errno: EIO, times: 1)
        let victim = try connectClient(port)
        defer { victim.close() }
        #expect(throws: NetError.self) { _ = try Self.fetch(victim, offset: 0, length: 100_000) }
        #expect(system.count(.sendfile) == 1)

        // The reply never arrived half-formed on another connection, and the server serves on.
        let reply = try Self.fetch(healthy, offset: 4_096, length: 200_000)
        #expect(reply.body.dropFirst(3).elementsEqual(file.content[4_096..<204_096]))
        #expect(system.count(.sendfile) >= 2)
    }

    @Test func shortSendfilesAndInterruptedCallsStillDeliverWholeFrames() throws {
        let file = try PatternFile(count: 3 << 20)
        defer { file.remove() }
        let system = FaultInjectingSystem()
        system.limitTransfer(.sendfile, toBytes: 4_093)
        system.limitTransfer(.send, toBytes: 7)
        system.limitTransfer(.receive, toBytes: 5)
        system.interrupt(every: 3)
        let (server, port) = try startServer(FileAndBudgetTests.FileHandler(fd: file.fd), system: system)
        defer { server.stop() }
        let client = try connectClient(port)
        defer { client.close() }
        for (offset, length) in [(0, 1), (17, 65_536), (100_000, 1_000_000), (file.content.count - 3, 3)] {
            let reply = try Self.fetch(client, offset: offset, length: length)
            #expect(Array(reply.body.prefix(3)) == [0xA, 0xB, 0xC])
            #expect(reply.body.dropFirst(3).elementsEqual(file.content[offset..<(offset + length)]))
        }
        #expect(system.count(.sendfile) > (1_000_000 / 4_093))
    }
}
