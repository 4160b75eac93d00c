import SluiceCompression
import SluiceCore
import SluiceTestKit

/// The server a fuzz input is aimed at: it decides which requests are valid there.
enum FuzzTarget: String, CaseIterable, Sendable {
    case master, worker
}

/// The families of bad input, taken in turn so every one is covered whatever the count.
enum FuzzKind: String, CaseIterable, Sendable {
    // Before any handshake.
    case randomBytes, oversizedFirstFrame, truncatedFirstHeader, truncatedHelloBody, helloBadMagic,
        helloBadVersion, helloRandomBody, requestBeforeHello, helloBadFlags
    // After a valid handshake.
    case randomBody, unknownType, unknownFlags, responseFlag, oversizedFrame, truncatedFrameBody,
        truncatedHeader, truncatedMessage, flippedMessage, oneWayGarbage
}

/// One input, sent on a fresh connection, and what the server may do with it.
struct FuzzInput {
    var kind: FuzzKind
    /// Perform a valid handshake (and require its ok reply) before writing `bytes`.
    var afterHandshake: Bool
    /// What is written (after the handshake, if any).
    var bytes: [UInt8]
    /// Shut our write side down after `bytes`: the server sees the input end where it is truncated.
    var endsStream = false
    /// The request id an error reply must carry, when the input has a well-formed header.
    var requestId: UInt64?
    /// The status an error reply must carry, where the protocol fixes it.
    var expectedStatus: StatusCode?
    /// The protocol says the server closes the connection after its reply.
    var closesAfterReply = false
    /// The body happens to be a valid request for this server, so an ok reply is allowed.
    var okAllowed = false
    /// `bytes` is a one-way frame followed by a ping: there must be no reply but the ping's (an ok).
    var oneWay = false
}

/// The request id the fuzzer's pings use; no fuzz frame carries it.
let fuzzPingRequestId: UInt64 = .max

/// Encodes a frame with any header fields, including flags and lengths a real sender never writes.
func rawFrame(type: UInt16, flags: UInt16 = 0, requestId: UInt64, body: [UInt8], declaredLength: UInt32? = nil)
    -> [UInt8]
{
    let header = FrameHeader(
        bodyLength: declaredLength ?? UInt32(body.count), type: type,
        flags: FrameFlags(rawValue: flags), requestId: requestId)
    return header.encoded + body
}

/// A ping frame with the fuzzer's ping request id.
func pingFrame() -> [UInt8] { rawFrame(type: MessageType.ping.rawValue, requestId: fuzzPingRequestId, body: []) }

/// A valid hello frame as a client sends it first.
func helloFrame(identity: String = "fuzz") -> [UInt8] {
    rawFrame(
        type: MessageType.hello.rawValue, requestId: 0, body: HelloRequest(role: .client, identity: identity).encode())
}

/// Makes the inputs for one target from a seeded generator: the same seed gives the same inputs.
struct FuzzInputGenerator {
    static let fuzzShuffle = ShuffleKey(applicationId: "fuzz-app", shuffleId: 7)

    private var rng: SeededGenerator
    private let target: FuzzTarget
    /// A valid request body of every message type but ping (which has none), for truncation and bit flips.
    private let templates: [(type: MessageType, body: [UInt8])]
    private var produced = 0

    init(seed: UInt64, target: FuzzTarget) throws {
        rng = SeededGenerator(seed: seed)
        self.target = target
        templates = try Self.validRequests()
    }

    /// The next input; kinds come in turn.
    mutating func next() -> FuzzInput {
        let kind = FuzzKind.allCases[produced % FuzzKind.allCases.count]
        produced += 1
        return make(kind)
    }

    // MARK: inputs

    private mutating func make(_ kind: FuzzKind) -> FuzzInput {
        let id = randomRequestId()
        switch kind {
        case .randomBytes:
            return FuzzInput(kind: kind, afterHandshake: false, bytes: randomBytes(1...160), endsStream: true)
        case .oversizedFirstFrame:
            // Before the handshake the limit is 64 KiB (a hello is small).
            let type =
                Bool.random(using: &rng) ? MessageType.hello.rawValue : UInt16.random(in: 0...UInt16.max, using: &rng)
            let length = UInt32.random(in: (64 * 1024 + 1)...UInt32.max, using: &rng)
            return FuzzInput(
                kind: kind, afterHandshake: false,
                bytes: rawFrame(type: type, requestId: id, body: [], declaredLength: length),
                requestId: id, expectedStatus: .frameTooLarge, closesAfterReply: true)
        case .truncatedFirstHeader:
            let cut = Int.random(in: 0..<FrameHeader.byteCount, using: &rng)
            return FuzzInput(
                kind: kind, afterHandshake: false, bytes: Array(helloFrame().prefix(cut)), endsStream: true)
        case .truncatedHelloBody:
            let hello = helloFrame()
            let cut = Int.random(in: FrameHeader.byteCount..<hello.count, using: &rng)
            return FuzzInput(kind: kind, afterHandshake: false, bytes: Array(hello.prefix(cut)), endsStream: true)
        case .helloBadMagic:
            var body = HelloRequest(role: .client, identity: "fuzz").encode()
            var magic = UInt32.random(in: 0...UInt32.max, using: &rng)
            if magic == ProtocolVersion.magic { magic ^= 1 }
            overwrite(&body, at: 0, with: withUnsafeBytes(of: magic.bigEndian, Array.init))
            return handshakeRefusal(kind, body: body, id: id, status: .malformed)
        case .helloBadVersion:
            var version = UInt16.random(in: 0...UInt16.max, using: &rng)
            if version == ProtocolVersion.current { version &+= 1 }
            let role = PeerRole.allCases.randomElement(using: &rng) ?? .client
            let body = HelloRequest(version: version, role: role, identity: randomText()).encode()
            return handshakeRefusal(kind, body: body, id: id, status: .unsupportedVersion)
        case .helloRandomBody:
            return handshakeRefusal(kind, body: randomBytes(0...40), id: id, status: nil)
        case .requestBeforeHello:
            var template = randomTemplate()
            while template.type == .hello { template = randomTemplate() }
            return FuzzInput(
                kind: kind, afterHandshake: false,
                bytes: rawFrame(type: template.type.rawValue, requestId: id, body: template.body),
                requestId: id, expectedStatus: .handshakeRequired, closesAfterReply: true)
        case .helloBadFlags:
            // Unknown bits are malformed; the response bit makes it no request at all: hello required.
            let unknownBits = Bool.random(using: &rng)
            let flags = unknownBits ? randomUnknownFlags() : FrameFlags.response.rawValue
            let body = HelloRequest(role: .client, identity: "fuzz").encode()
            return FuzzInput(
                kind: kind, afterHandshake: false,
                bytes: rawFrame(type: MessageType.hello.rawValue, flags: flags, requestId: id, body: body),
                requestId: id, expectedStatus: unknownBits ? .malformed : .handshakeRequired,
                closesAfterReply: true)
        case .randomBody:
            // Every message type in turn, with a random body (often empty or tiny, to reach short paths).
            let type = MessageType.allCases[(produced / FuzzKind.allCases.count) % MessageType.allCases.count]
            return request(kind, type: type.rawValue, body: randomBytes(0...64), id: id)
        case .unknownType:
            var type = UInt16.random(in: 0...UInt16.max, using: &rng)
            while MessageType(rawValue: type) != nil { type &+= 1 }
            return request(kind, type: type, body: randomBytes(0...64), id: id)
        case .unknownFlags:
            let template = randomTemplate()
            let flags = randomUnknownFlags() | UInt16.random(in: 0...3, using: &rng)
            return FuzzInput(
                kind: kind, afterHandshake: true,
                bytes: rawFrame(type: template.type.rawValue, flags: flags, requestId: id, body: template.body),
                requestId: id, expectedStatus: .malformed, closesAfterReply: true)
        case .responseFlag:
            let template = randomTemplate()
            return FuzzInput(
                kind: kind, afterHandshake: true,
                bytes: rawFrame(
                    type: template.type.rawValue, flags: FrameFlags.response.rawValue,
                    requestId: id, body: template.body),
                requestId: id, expectedStatus: .malformed, closesAfterReply: true)
        case .oversizedFrame:
            let length = UInt32.random(in: (64 << 20 + 1)...UInt32.max, using: &rng)
            let type = randomTemplate().type.rawValue
            return FuzzInput(
                kind: kind, afterHandshake: true,
                bytes: rawFrame(type: type, requestId: id, body: [], declaredLength: length),
                requestId: id, expectedStatus: .frameTooLarge, closesAfterReply: true)
        case .truncatedFrameBody:
            // The header announces the whole body; less arrives before the end of stream.
            let template = randomTemplate()
            let frame = rawFrame(type: template.type.rawValue, requestId: id, body: template.body)
            let cut = Int.random(in: FrameHeader.byteCount..<frame.count, using: &rng)
            return FuzzInput(kind: kind, afterHandshake: true, bytes: Array(frame.prefix(cut)), endsStream: true)
        case .truncatedHeader:
            let template = randomTemplate()
            let frame = rawFrame(type: template.type.rawValue, requestId: id, body: template.body)
            let cut = Int.random(in: 1..<FrameHeader.byteCount, using: &rng)
            return FuzzInput(kind: kind, afterHandshake: true, bytes: Array(frame.prefix(cut)), endsStream: true)
        case .truncatedMessage:
            // A whole frame whose body is a valid message cut short.
            let template = randomTemplate()
            let cut = Int.random(in: 0..<template.body.count, using: &rng)
            return request(kind, type: template.type.rawValue, body: Array(template.body.prefix(cut)), id: id)
        case .flippedMessage:
            let (type, body) = flippedTemplate()
            return request(kind, type: type, body: body, id: id)
        case .oneWayGarbage:
            let (type, body) =
                Bool.random(using: &rng)
                ? flippedTemplate()
                : (randomTemplate().type.rawValue, randomBytes(0...64))
            let garbage = rawFrame(type: type, flags: FrameFlags.oneWay.rawValue, requestId: id, body: body)
            return FuzzInput(
                kind: kind, afterHandshake: true, bytes: garbage + pingFrame(),
                requestId: fuzzPingRequestId, oneWay: true)
        }
    }

    /// A hello the server must refuse (then close); `status` nil when several refusals are right.
    private func handshakeRefusal(_ kind: FuzzKind, body: [UInt8], id: UInt64, status: StatusCode?) -> FuzzInput {
        FuzzInput(
            kind: kind, afterHandshake: false,
            bytes: rawFrame(type: MessageType.hello.rawValue, requestId: id, body: body),
            requestId: id, expectedStatus: status, closesAfterReply: true)
    }

    /// A well-framed request after the handshake; ok is allowed only when the body is a valid request here.
    private mutating func request(_ kind: FuzzKind, type: UInt16, body: [UInt8], id: UInt64) -> FuzzInput {
        FuzzInput(
            kind: kind, afterHandshake: true, bytes: rawFrame(type: type, requestId: id, body: body),
            requestId: id, okAllowed: Self.isValidRequest(type: type, body: body, on: target))
    }

    /// A valid request with one to three bytes changed, re-drawn while it is a valid request that would cost the
    /// server real work (millions of partitions, a push forwarded to a made-up replica): that is load, not garbage.
    private mutating func flippedTemplate() -> (UInt16, [UInt8]) {
        while true {
            let template = randomTemplate()
            var body = template.body
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let index = Int.random(in: 0..<body.count, using: &rng)
                body[index] ^= UInt8.random(in: 1...255, using: &rng)
            }
            if !Self.isCostlyValidRequest(type: template.type, body: body) { return (template.type.rawValue, body) }
        }
    }

    // MARK: randomness

    private mutating func randomRequestId() -> UInt64 { UInt64.random(in: 1..<fuzzPingRequestId, using: &rng) }

    private mutating func randomBytes(_ counts: ClosedRange<Int>) -> [UInt8] {
        (0..<Int.random(in: counts, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    private mutating func randomText() -> String {
        String(
            decoding: (0..<Int.random(in: 0...12, using: &rng)).map { _ in UInt8.random(in: 97...122, using: &rng) },
            as: UTF8.self)
    }

    /// Flags with at least one bit other than response and one-way.
    private mutating func randomUnknownFlags() -> UInt16 {
        UInt16.random(in: 1...UInt16.max >> 2, using: &rng) << 2
    }

    private mutating func randomTemplate() -> (type: MessageType, body: [UInt8]) {
        templates[Int.random(in: 0..<templates.count, using: &rng)]
    }

    private func overwrite(_ bytes: inout [UInt8], at offset: Int, with replacement: [UInt8]) {
        bytes.replaceSubrange(offset..<(offset + replacement.count), with: replacement)
    }

    // MARK: what the servers accept

    /// True when `body` decodes as a request that `target` serves (so an ok reply is not an answer to garbage).
    static func isValidRequest(type rawType: UInt16, body: [UInt8], on target: FuzzTarget) -> Bool {
        guard let type = MessageType(rawValue: rawType) else { return false }
        switch (type, target) {
        case (.ping, _): return body.isEmpty
        case (.registerWorker, .master): return (try? RegisterWorkerRequest.decode(body: body)) != nil
        case (.workerHeartbeat, .master): return (try? WorkerHeartbeatRequest.decode(body: body)) != nil
        case (.reportHeldPartitions, .master): return (try? ReportHeldPartitionsRequest.decode(body: body)) != nil
        case (.adoptPartitions, .master): return (try? AdoptPartitionsRequest.decode(body: body)) != nil
        case (.registerShuffle, .master): return (try? RegisterShuffleRequest.decode(body: body)) != nil
        case (.applicationHeartbeat, .master), (.unregisterApplication, .master):
            return (try? ApplicationRequest.decode(body: body)) != nil
        case (.unregisterShuffle, .master): return (try? UnregisterShuffleRequest.decode(body: body)) != nil
        case (.revive, .master): return (try? ReviveRequest.decode(body: body)) != nil
        case (.getLocations, .master): return (try? GetLocationsRequest.decode(body: body)) != nil
        case (.pushBatch, .worker), (.pushBatches, .worker):
            guard let push = try? PushRequest.decode(body: body) else { return false }
            return push.entries.allSatisfy { (try? BatchCodec.verify($0.batch)) != nil }
        case (.openStream, .worker): return (try? OpenStreamRequest.decode(body: body)) != nil
        case (.fetchChunk, .worker): return (try? FetchChunkRequest.decode(body: body)) != nil
        case (.closeStream, .worker): return (try? CloseStreamRequest.decode(body: body)) != nil
        default: return false
        }
    }

    private static func isCostlyValidRequest(type: MessageType, body: [UInt8]) -> Bool {
        switch type {
        case .registerShuffle:
            guard let request = try? RegisterShuffleRequest.decode(body: body) else { return false }
            return request.numPartitions > 1_024
        case .pushBatch, .pushBatches:
            guard let push = try? PushRequest.decode(body: body) else { return false }
            return push.entries.contains { $0.replica != nil }
        default:
            return false
        }
    }

    /// One valid request body per message type (ping has none), all about the fuzz application only.
    private static func validRequests() throws -> [(type: MessageType, body: [UInt8])] {
        let key = fuzzShuffle
        let fakeWorker = WorkerAddress(workerId: "fuzz-worker", host: "127.0.0.1", port: 1)
        let held = HeldPartition(shuffle: key, partitionId: 0, epoch: 0, role: .primary, bytes: 64)
        let raw = (0..<48).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let (header, stored) = try BatchCodec.encode(
            raw: raw, codec: .none, mapIndex: 1, attemptId: 2, sequence: 0,
            isLast: true)
        let batch = Batch(header: header, payload: stored[...])
        let entry = PushEntry(partitionId: 0, epoch: 0, replica: nil, batch: batch)
        let push = PushRequest(shuffle: key, role: .primary, entries: [entry])
        var second = entry
        second.partitionId = 1
        let pushes = PushRequest(shuffle: key, role: .primary, entries: [entry, second])
        return [
            (.hello, HelloRequest(role: .client, identity: "fuzz").encode()),
            (
                .registerWorker,
                RegisterWorkerRequest(
                    address: fakeWorker, capacityBytes: 1 << 20, freeBytes: 0,
                    held: [held]
                ).encoded()
            ),
            (
                .workerHeartbeat,
                WorkerHeartbeatRequest(workerId: fakeWorker.workerId, freeBytes: 0, shuffles: [key]).encoded()
            ),
            (
                .registerShuffle,
                RegisterShuffleRequest(shuffle: key, numMappers: 2, numPartitions: 4, replicate: false).encoded()
            ),
            (.applicationHeartbeat, ApplicationRequest(applicationId: key.applicationId).encoded()),
            (.unregisterShuffle, UnregisterShuffleRequest(shuffle: key).encoded()),
            (.unregisterApplication, ApplicationRequest(applicationId: key.applicationId).encoded()),
            (
                .revive,
                ReviveRequest(shuffle: key, partitionId: 0, failedEpoch: 0, failedWorkerId: fakeWorker.workerId)
                    .encoded()
            ),
            (.getLocations, GetLocationsRequest(shuffle: key).encoded()),
            (.pushBatch, push.encodedBody()),
            (.pushBatches, pushes.encodedBody()),
            (.openStream, OpenStreamRequest(shuffle: key, partitionId: 0, epoch: 0, role: .primary).encoded()),
            (.fetchChunk, FetchChunkRequest(streamId: 1, chunkIndex: 0).encoded()),
            (.closeStream, CloseStreamRequest(streamId: 1).encoded()),
        ]
    }
}
