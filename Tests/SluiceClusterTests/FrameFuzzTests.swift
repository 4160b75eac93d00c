import Foundation
import Logging
import SluiceCompression
import SluiceConfig
import SluiceCore
import SluiceMaster
import SluiceNet
import SluiceSystem
import SluiceTestKit
import SluiceWorker
import Testing

/// Acceptance: truncated, oversized and random frames (thousands, seeded) on every port each get an error or a
/// closed connection, and a well-behaved client on the same server keeps working.
///
/// Replay a failure with `SLUICE_FUZZ_SEED=<seed printed by the failing run> swift test --filter FrameFuzzTests`.
@Suite(.serialized)
struct FrameFuzzTests {
    static let defaultSeed: UInt64 = 0x51_0CE_F022
    static let inputsPerPort = 1_500
    static let rounds = 3
    /// How long a reply may take before the server counts as hung. Replies take milliseconds; this is slack
    /// for a loaded machine.
    static let replyTimeoutMs = 3_000
    /// A round stops after this many failures: a hung server would otherwise cost a time-out per input.
    static let maxFailuresPerRound = 10

    @Test func badFramesGetErrorsOrClosesAndGoodClientsKeepWorking() throws {
        let seed = try Self.seed()
        print("FrameFuzzTests: seed \(seed) (set SLUICE_FUZZ_SEED to replay another)")
        let started = Monotonic.nowMs()
        let cluster = try FuzzCluster()
        defer { cluster.stop() }

        let baseline = cluster.connectionCounts()
        try expectCensusSeesConnections(cluster, baseline: baseline)
        try expectWellBehavedClients(cluster, round: 0)

        var generators = try FuzzTarget.allCases.map { target in
            try FuzzInputGenerator(seed: seed ^ (target == .master ? 0 : 0x5EED_0000_0000_0001), target: target)
        }
        let perRound = Self.inputsPerPort / Self.rounds
        for round in 1...Self.rounds {
            for (index, target) in FuzzTarget.allCases.enumerated() {
                let report = runRound(&generators[index], inputs: perRound, port: cluster.port(of: target))
                print("FrameFuzzTests: round \(round) \(target): \(report.summary)")
                #expect(
                    report.failures.isEmpty,
                    "\(target) round \(round), seed \(seed): \(report.failures.count) failures:\n\(report.failures.joined(separator: "\n"))"
                )
            }
            try expectWellBehavedClients(cluster, round: round)
        }

        // Every fuzz connection and every good client is closed now: no server may still hold one.
        let drained = waitUntil(timeoutMs: 10_000) { cluster.connectionCounts() == baseline }
        #expect(drained, "connections still open after fuzzing: \(cluster.connectionCounts()), before: \(baseline)")
        print("FrameFuzzTests: \(Self.inputsPerPort) inputs per port in \(Monotonic.nowMs() - started) ms")
    }

    // MARK: fuzzing

    struct RoundReport {
        var failures: [String] = []
        var outcomes: [String: Int] = [:]

        var summary: String {
            outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
    }

    private func runRound(_ generator: inout FuzzInputGenerator, inputs: Int, port: Int) -> RoundReport {
        var report = RoundReport()
        for number in 0..<inputs {
            let input = generator.next()
            do {
                let outcome = try exchange(input, port: port)
                report.outcomes[outcome, default: 0] += 1
            } catch {
                report.failures.append("input \(number) (\(input.kind)): \(error)")
                if report.failures.count >= Self.maxFailuresPerRound { break }
            }
        }
        return report
    }

    /// Sends one input on a fresh connection and checks what came back. Returns how the server answered
    /// ("error", "closed", "valid ok", "silent"); throws a `FuzzFailure` saying what was wrong.
    private func exchange(_ input: FuzzInput, port: Int) throws -> String {
        let connection = try RawConnection(port: port)
        if input.afterHandshake { try handshake(connection) }
        connection.send(input.bytes)
        if input.endsStream { connection.shutdownWrite() }
        let reply = connection.readFrame(timeoutMs: Self.replyTimeoutMs)
        if input.oneWay { return try expectOnlyPingReply(reply) }
        guard case .frame(let header, let body) = reply else { return try expectClosed(reply, "in reply") }
        let status = try checkResponse(header, body, to: input)
        if input.closesAfterReply {
            _ = try expectClosed(connection.readFrame(timeoutMs: Self.replyTimeoutMs), "after the \(status) reply")
        } else if !input.endsStream {
            try expectStillServing(connection)
        }
        return status == .ok ? "valid ok" : "error"
    }

    private func handshake(_ connection: RawConnection) throws {
        connection.send(helloFrame())
        guard case .frame(let header, let body) = connection.readFrame(timeoutMs: Self.replyTimeoutMs) else {
            throw FuzzFailure("no reply to a valid hello")
        }
        let reply = try HelloResponse.decode(body[...])
        guard header.flags.contains(.response), header.type == MessageType.hello.rawValue, reply.status == .ok else {
            throw FuzzFailure("valid hello refused: \(reply.status) \(reply.message)")
        }
    }

    /// Checks a reply to a bad input: a response naming the request, with an error status unless the body was
    /// in fact a valid request, and the status the protocol fixes where it does.
    private func checkResponse(_ header: FrameHeader, _ body: [UInt8], to input: FuzzInput) throws -> StatusCode {
        guard header.flags.contains(.response) else { throw FuzzFailure("reply without the response flag: \(header)") }
        if let id = input.requestId, header.requestId != id {
            throw FuzzFailure("reply names request \(header.requestId), the input was \(id)")
        }
        var reader = WireReader(body[...])
        let head = try ResponseHead.decode(from: &reader)
        if head.status == .ok && !input.okAllowed {
            throw FuzzFailure("ok reply to an invalid input: \(input.bytes.prefix(64))")
        }
        if let expected = input.expectedStatus, head.status != expected {
            throw FuzzFailure("status \(head.status) (\(head.message)), expected \(expected)")
        }
        return head.status
    }

    /// A reply that is no frame must be a closed connection, not a hang or garbage.
    private func expectClosed(_ reply: RawConnection.Reply, _ when: String) throws -> String {
        switch reply {
        case .closed: return "closed"
        case .timedOut: throw FuzzFailure("connection still open and silent \(when) after \(Self.replyTimeoutMs) ms")
        case .invalid(let text): throw FuzzFailure("invalid bytes \(when): \(text)")
        case .frame(let header, _): throw FuzzFailure("unexpected frame \(when): \(header)")
        }
    }

    /// After an error that leaves the connection open, it must still serve: a ping is answered ok (or the
    /// server closed the connection, which is also allowed).
    private func expectStillServing(_ connection: RawConnection) throws {
        connection.send(pingFrame())
        _ = try expectOnlyPingReply(connection.readFrame(timeoutMs: Self.replyTimeoutMs))
    }

    /// The next reply must be the ping's ok, or the end of the connection.
    private func expectOnlyPingReply(_ reply: RawConnection.Reply) throws -> String {
        guard case .frame(let header, let body) = reply else {
            return try expectClosed(reply, "instead of a ping reply")
        }
        guard header.requestId == fuzzPingRequestId, header.type == MessageType.ping.rawValue,
            header.flags.contains(.response)
        else {
            throw FuzzFailure("expected the ping's reply, got \(header)")
        }
        let head = try StatusResponse.decode(body: body).head
        guard head.status == .ok else { throw FuzzFailure("ping answered \(head.status): \(head.message)") }
        return "silent"
    }

    // MARK: well-behaved clients

    /// A client speaking the protocol properly gets its work done on both servers.
    private func expectWellBehavedClients(_ cluster: FuzzCluster, round: Int) throws {
        let key = ShuffleKey(applicationId: "good-app", shuffleId: UInt32(round))
        let master = try FrameClient.connect(
            host: "127.0.0.1", port: cluster.masterPort, role: .client,
            identity: "good-app", config: Self.clientConfig, logger: quietLogger)
        defer { master.close() }
        let request = RegisterShuffleRequest(shuffle: key, numMappers: 1, numPartitions: 3, replicate: false)
        let registered = try LocationsResponse.decode(
            body: master.call(type: .registerShuffle, body: request.encoded()).body)
        #expect(registered.head.status == .ok, "round \(round): registerShuffle answered \(registered.head)")
        #expect(
            registered.table.locations.map(\.partitionId).sorted() == [0, 1, 2]
                && registered.table.locations.allSatisfy { $0.primary != nil },
            "round \(round): location table \(registered.table.locations)")

        let worker = try FrameClient.connect(
            host: "127.0.0.1", port: cluster.workerPort, role: .client,
            identity: "good-app", config: Self.clientConfig, logger: quietLogger)
        defer { worker.close() }
        let raw = Array(repeating: Array("record \(round) of the well-behaved client; ".utf8), count: 40).joined()
        let (header, stored) = try BatchCodec.encode(
            raw: Array(raw), codec: .lz4, mapIndex: 0, attemptId: UInt64(round),
            sequence: 0, isLast: true)
        #expect(header.codec == .lz4, "the batch must stay compressed so the worker serves it as stored")
        let batch = Batch(header: header, payload: stored[...])
        let push = PushRequest(
            shuffle: key, role: .primary,
            entries: [PushEntry(partitionId: 0, epoch: 0, replica: nil, batch: batch)])
        let pushed = try PushResponse.decode(body: worker.call(type: push.frameType, body: push.encodedBody()).body)
        #expect(pushed.head.status == .ok && pushed.entryStatuses == [.ok], "round \(round): push answered \(pushed)")

        let open = OpenStreamRequest(shuffle: key, partitionId: 0, epoch: 0, role: .primary)
        let opened = try OpenStreamResponse.decode(body: worker.call(type: .openStream, body: open.encoded()).body)
        try #require(
            opened.head.status == .ok && opened.chunkCount == 1, "round \(round): openStream answered \(opened)")
        let fetch = FetchChunkRequest(streamId: opened.streamId, chunkIndex: 0)
        let chunk = try FetchChunkResponse.decode(body: worker.call(type: .fetchChunk, body: fetch.encoded()).body)
        #expect(chunk.head.status == .ok, "round \(round): fetchChunk answered \(chunk.head)")
        #expect(
            Array(chunk.data) == header.encoded + stored, "round \(round): fetched bytes differ from the pushed batch")
    }

    static let clientConfig = FrameClientConfig(connectTimeoutMs: 5_000, requestTimeoutMs: 10_000)

    /// Before fuzzing: the connection census really counts a server's connections (else the final check
    /// that they come back down would pass vacuously).
    private func expectCensusSeesConnections(_ cluster: FuzzCluster, baseline: [FuzzTarget: Int]) throws {
        for target in FuzzTarget.allCases {
            let connection = try RawConnection(port: cluster.port(of: target))
            try handshake(connection)
            let seen = waitUntil(timeoutMs: 5_000) {
                cluster.connectionCount(of: target) == (baseline[target] ?? 0) + 1
            }
            #expect(
                seen, "\(target): census saw \(cluster.connectionCount(of: target)) connections, expected baseline + 1")
            withExtendedLifetime(connection) {}
        }
    }

    // MARK: seed

    /// `SLUICE_FUZZ_SEED` (decimal, or hex with 0x) when set, else the fixed default.
    static func seed() throws -> UInt64 {
        try SeededGenerator.seed(fromEnvironment: "SLUICE_FUZZ_SEED") ?? defaultSeed
    }
}

/// What went wrong with one fuzz input.
struct FuzzFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

/// One master and one registered worker in this process on quiet ports (below the ephemeral range: see
/// `MiniCluster`'s `quietPorts`), running the config registry's defaults as deployed servers do.
struct FuzzCluster {
    let cluster: MiniCluster

    init() throws {
        cluster = try MiniCluster(
            workers: 1, workerOverrides: ["worker.replicationTimeout": "1s"],
            masterOptions: MasterServer.Options(
                try MasterConfig.load(overrides: [
                    "master.host": "127.0.0.1", "master.port": "0",
                ])), logger: quietLogger, quietPorts: true, scratch: try TempDirectory(prefix: "sluice-fuzz-"))
    }

    var masterPort: Int { cluster.masterPort }
    var workerPort: Int { cluster.workerPorts[0] }

    func port(of target: FuzzTarget) -> Int { target == .master ? masterPort : workerPort }

    func connectionCount(of target: FuzzTarget) -> Int { SocketCensus.openConnections(localPort: port(of: target)) }

    func connectionCounts() -> [FuzzTarget: Int] {
        Dictionary(uniqueKeysWithValues: FuzzTarget.allCases.map { ($0, connectionCount(of: $0)) })
    }

    func stop() { cluster.shutdown() }
}
