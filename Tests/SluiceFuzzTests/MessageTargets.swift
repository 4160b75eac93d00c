import SluiceCore

/// Fuzz targets for the frame header and every message body decoder in SluiceCore.
enum MessageTargets {
    static let all: [FuzzTarget] =
        [frameHeader, batch, helloRequest, helloResponse, errorResponse, endpointText] + messages

    /// The body decoders of each message type, by target name: the request's (nil when the request has no body)
    /// and the response's. Any response may also be an `ErrorResponse`. No default: a new message type does not
    /// compile until it has its entry here, and `FuzzCoverageTests` checks every name is a target.
    static func decoderTargets(of type: MessageType) -> (request: String?, response: String) {
        switch type {
        case .hello: ("HelloRequest", "HelloResponse")
        case .ping: (nil, "StatusResponse")
        case .authenticate: ("AuthenticateRequest", "AuthenticateResponse")
        case .registerApplication: ("RegisterApplicationRequest", "RegisterApplicationResponse")
        case .reportHeldPartitions: ("ReportHeldPartitionsRequest", "StatusResponse")
        case .adoptPartitions: ("AdoptPartitionsRequest", "StatusResponse")
        case .registerWorker: ("RegisterWorkerRequest", "RegisterWorkerResponse")
        case .workerHeartbeat: ("WorkerHeartbeatRequest", "WorkerHeartbeatResponse")
        case .registerShuffle: ("RegisterShuffleRequest", "LocationsResponse")
        case .applicationHeartbeat, .unregisterApplication: ("ApplicationRequest", "StatusResponse")
        case .unregisterShuffle: ("UnregisterShuffleRequest", "StatusResponse")
        case .revive: ("ReviveRequest", "LocationsResponse")
        case .getLocations: ("GetLocationsRequest", "LocationsResponse")
        case .pushBatch, .pushBatches: ("PushRequest", "PushResponse")
        case .openStream: ("OpenStreamRequest", "OpenStreamResponse")
        case .fetchChunk: ("FetchChunkRequest", "FetchChunkResponse")
        case .closeStream: ("CloseStreamRequest", "StatusResponse")
        }
    }

    /// Every `WireMessage` in SluiceCore.
    static let messages: [FuzzTarget] = [
        message(RegisterWorkerRequest.self, covers: ["HeldPartition", "PartitionRole", "SharedFolder"]) {
            [
                RegisterWorkerRequest(
                    address: MessageSamples.workers[0], httpPort: 9_098, capacityBytes: 1 << 40, freeBytes: 1 << 39,
                    held: []),
                RegisterWorkerRequest(
                    address: MessageSamples.workers[1], capacityBytes: .max, freeBytes: 0, held: MessageSamples.held),
                RegisterWorkerRequest(
                    address: MessageSamples.workers[1], capacityBytes: 1, freeBytes: 0, held: [],
                    sharedFolders: [SharedFolder(directory: "/fsx/sluice", folder: "worker-1")]),
            ]
        },
        message(RegisterWorkerResponse.self) {
            [RegisterWorkerResponse(heartbeatIntervalMs: 10_000)]
                + MessageSamples.heads.map { RegisterWorkerResponse(head: $0, heartbeatIntervalMs: 0) }
        },
        message(WorkerHeartbeatRequest.self, covers: ["TierSpace"]) {
            [
                WorkerHeartbeatRequest(workerId: "worker-1", freeBytes: 1 << 30, shuffles: []),
                WorkerHeartbeatRequest(
                    workerId: "worker-2", freeBytes: .max, draining: true, shuffles: MessageSamples.shuffles),
                WorkerHeartbeatRequest(
                    workerId: "worker-3", freeBytes: 3 << 30, shuffles: [MessageSamples.shuffles[0]],
                    tiers: [
                        TierSpace(kind: "nvme", freeBytes: 1 << 30, capacityBytes: 2 << 30),
                        TierSpace(kind: "fsx", freeBytes: 2 << 30, capacityBytes: .max),
                    ]),
            ]
        },
        message(WorkerHeartbeatResponse.self, covers: ["AdoptionOrder"]) {
            MessageSamples.heads.map { WorkerHeartbeatResponse(head: $0) } + [
                WorkerHeartbeatResponse(resync: true, shufflesToDelete: MessageSamples.shuffles, decommissioned: true),
                WorkerHeartbeatResponse(shufflesToDelete: [MessageSamples.shuffles[0]]),
                WorkerHeartbeatResponse(
                    adoptions: [
                        AdoptionOrder(
                            lostWorkerId: "worker-0", folder: SharedFolder(directory: "/fsx", folder: "worker-0"))
                    ]),
            ]
        },
        message(RegisterShuffleRequest.self, covers: ["ShuffleKey"]) {
            MessageSamples.shuffles.map {
                RegisterShuffleRequest(shuffle: $0, numMappers: 200, numPartitions: 1 << 24, replicate: true)
            } + [
                RegisterShuffleRequest(
                    shuffle: MessageSamples.shuffles[0], numMappers: 0, numPartitions: 0, replicate: false)
            ]
        },
        message(LocationsResponse.self, covers: ["LocationTable", "WorkerAddress", "ResponseHead", "StatusCode"]) {
            MessageSamples.tables.map { LocationsResponse(table: $0) }
                + MessageSamples.heads.map { LocationsResponse(head: $0) }
        },
        message(GetLocationsRequest.self) { MessageSamples.shuffles.map { GetLocationsRequest(shuffle: $0) } },
        message(ApplicationRequest.self) {
            [ApplicationRequest(applicationId: "app-1"), ApplicationRequest(applicationId: "\u{1F600}")]
        },
        message(UnregisterShuffleRequest.self) {
            MessageSamples.shuffles.map { UnregisterShuffleRequest(shuffle: $0) }
        },
        message(StatusResponse.self) { MessageSamples.heads.map { StatusResponse($0) } },
        message(ReviveRequest.self) {
            [
                ReviveRequest(
                    shuffle: MessageSamples.shuffles[0], partitionId: 3, failedEpoch: 0, failedWorkerId: "worker-1"),
                ReviveRequest(
                    shuffle: MessageSamples.shuffles[1], partitionId: .max, failedEpoch: .max, failedWorkerId: ""),
            ]
        },
        message(PushRequest.self, covers: ["PushEntry", "Batch", "BatchHeader"]) {
            [
                PushRequest(
                    shuffle: MessageSamples.shuffles[0], role: .primary, entries: [MessageSamples.pushEntries[0]]),
                PushRequest(shuffle: MessageSamples.shuffles[1], role: .primary, entries: MessageSamples.pushEntries),
                PushRequest(
                    shuffle: MessageSamples.shuffles[2], role: .replica,
                    entries: [MessageSamples.pushEntries[0], MessageSamples.pushEntries[2]]),
            ]
        },
        message(PushResponse.self) {
            [
                PushResponse(entryStatuses: [.ok]),
                PushResponse(head: ResponseHead(.hardSplit, "full"), entryStatuses: [.ok, .softSplit, .hardSplit]),
                PushResponse(head: ResponseHead(.malformed, "bad push"), entryStatuses: []),
                PushResponse(entryStatuses: StatusCode.allCases),
            ]
        },
        message(OpenStreamRequest.self) {
            [
                OpenStreamRequest(shuffle: MessageSamples.shuffles[0], partitionId: 0, epoch: 0, role: .primary),
                OpenStreamRequest(
                    shuffle: MessageSamples.shuffles[1], partitionId: 4, epoch: 1, role: .replica, mapRange: 3..<3,
                    acceptedCodecs: 0),
            ]
        },
        message(OpenStreamResponse.self) {
            [OpenStreamResponse(streamId: .max, chunkCount: 12, storedBytes: 1 << 33)]
                + MessageSamples.heads.map { OpenStreamResponse(head: $0) }
        },
        message(FetchChunkRequest.self) {
            [FetchChunkRequest(streamId: 1, chunkIndex: 0), FetchChunkRequest(streamId: .max, chunkIndex: .max)]
        },
        message(FetchChunkResponse.self) {
            [
                FetchChunkResponse(data: []),
                FetchChunkResponse(data: (MessageSamples.batches[1].header.encoded + Array("records".utf8))[...]),
            ] + MessageSamples.heads.dropFirst().map { FetchChunkResponse(head: $0) }
        },
        message(CloseStreamRequest.self) { [CloseStreamRequest(streamId: 0), CloseStreamRequest(streamId: .max)] },
        message(AuthenticateRequest.self, covers: ["CredentialKind"]) {
            CredentialKind.allCases.map {
                AuthenticateRequest(kind: $0, proof: (0..<32).map { UInt8($0) })
            }
        },
        message(AuthenticateResponse.self) {
            [AuthenticateResponse(serverProof: [UInt8](repeating: 0xA5, count: 32))]
                + MessageSamples.heads.dropFirst().map { AuthenticateResponse(head: $0) }
        },
        message(RegisterApplicationRequest.self) {
            [
                RegisterApplicationRequest(applicationId: "app-1"),
                RegisterApplicationRequest(applicationId: "spark-\u{1F600}"),
            ]
        },
        message(RegisterApplicationResponse.self) {
            [
                RegisterApplicationResponse(token: []),
                RegisterApplicationResponse(token: [UInt8](repeating: 7, count: 32)),
            ]
                + MessageSamples.heads.dropFirst().map { RegisterApplicationResponse(head: $0) }
        },
        message(ReportHeldPartitionsRequest.self) {
            [
                ReportHeldPartitionsRequest(workerId: "worker-1", last: false, held: MessageSamples.held),
                ReportHeldPartitionsRequest(workerId: "worker-2", last: true, held: []),
            ]
        },
        message(AdoptPartitionsRequest.self) {
            [
                AdoptPartitionsRequest(
                    workerId: "worker-1", lostWorkerId: "worker-0", folderPath: "/fsx/worker-0", last: false,
                    held: MessageSamples.held),
                AdoptPartitionsRequest(
                    workerId: "worker-2", lostWorkerId: "worker-0", folderPath: "/fsx/worker-0", last: true, held: []),
            ]
        },
    ]

    /// A `WireMessage` decoded from a whole body (trailing bytes are malformed) and encoded again.
    static func message<M: WireMessage>(
        _ type: M.Type, covers: [String] = [], seeds: @escaping @Sendable () -> [M]
    ) -> FuzzTarget {
        .codec(
            String(describing: type), covers: [String(describing: type), "WireMessage.decode"] + covers,
            seeds: { seeds().map { $0.encoded() } },
            reencode: { (input) throws(ProtocolError) -> [UInt8] in try M.decode(body: input).encoded() })
    }

    /// `EndpointText.parse` of the input as text (addresses peers and the master hand out): an accepted endpoint
    /// has a non-empty host and a port in 0...65535, and formats back to text that parses to the same endpoint.
    static let endpointText = FuzzTarget(
        name: "EndpointText", covers: ["EndpointText.parse"],
        seeds: {
            ["127.0.0.1:9097", "[::1]:9098", "[fd00::2]:0", "sluice-worker-0.sluice:65535"].map {
                Array($0.utf8)
            }
        },
        makeCheck: {
            { input in
                guard let (host, port) = EndpointText.parse(String(decoding: input, as: UTF8.self)) else {
                    return .rejected
                }
                guard !host.isEmpty, (0...65535).contains(port) else { return .violation("\(host) \(port)") }
                let text = EndpointText.format(host: host, port: port)
                guard let again = EndpointText.parse(text), again.host == host, again.port == port else {
                    return .violation("\(text) does not parse back to \(host) \(port)")
                }
                return .accepted
            }
        })

    static let helloRequest = FuzzTarget.codec(
        "HelloRequest", covers: ["HelloRequest"],
        seeds: {
            PeerRole.allCases.map { HelloRequest(role: $0, identity: "\($0)-identity").encode() }
                + [HelloRequest(version: .max, role: .client, identity: "").encode()]
                + [HelloRequest(role: .worker, identity: "w", clientNonce: [UInt8](repeating: 1, count: 32)).encode()]
        },
        reencode: { (input) throws(ProtocolError) -> [UInt8] in try HelloRequest.decode(input).encode() })

    static let helloResponse = FuzzTarget.codec(
        "HelloResponse", covers: ["HelloResponse"],
        seeds: {
            [
                HelloResponse(serverId: "master-1").encode(),
                HelloResponse(serverId: "worker-1", serverNonce: [UInt8](repeating: 2, count: 32)).encode(),
                HelloResponse(status: .unsupportedVersion, message: "version 9 not in 1...1", serverId: "").encode(),
            ]
        },
        reencode: { (input) throws(ProtocolError) -> [UInt8] in try HelloResponse.decode(input).encode() })

    static let errorResponse = FuzzTarget.codec(
        "ErrorResponse", covers: ["ErrorResponse"],
        seeds: {
            MessageSamples.errorStatuses.map { ErrorResponse($0, "\($0)").encode() }
                + [
                    ErrorResponse(.ok, "").encode(),
                    ErrorResponse(.malformed, String(repeating: "m", count: 4_096)).encode(),
                ]
        },
        reencode: { (input) throws(ProtocolError) -> [UInt8] in try ErrorResponse.decode(input).encode() })

    /// A batch as it travels inside a push or a chunk: header and stored bytes (no checksum check at this layer).
    static let batch = FuzzTarget.codec(
        "Batch", covers: ["Batch", "BatchHeader"], allowed: [.malformed],
        seeds: { MessageSamples.batches.map { encode($0) } },
        reencode: { (input) throws(ProtocolError) -> [UInt8] in
            var reader = WireReader(input)
            return encode(try Batch.decode(from: &reader))
        })

    private static func encode(_ batch: Batch) -> [UInt8] {
        var writer = WireWriter()
        batch.encode(into: &writer)
        return writer.bytes
    }

    /// The body-length limits the frame header is decoded with, smallest first.
    static let frameLimits = [0, 1, FrameHeader.byteCount, 64 << 10, Int(UInt32.max) - 1, Int(UInt32.max), Int.max]

    /// The 16-byte frame header under every limit in `frameLimits`: errors are `malformed` or `frameTooLarge`, an
    /// accepted header respects the limit and re-encodes to the input's first 16 bytes, and a header accepted
    /// under one limit is accepted under every larger one.
    static let frameHeader = FuzzTarget(
        name: "FrameHeader", covers: ["FrameHeader", "FrameFlags"],
        seeds: {
            MessageType.allCases.flatMap { type in
                [FrameFlags(), .response, .oneWay].map { flags in
                    FrameHeader(bodyLength: UInt32(type.rawValue), type: type.rawValue, flags: flags, requestId: 42)
                        .encoded
                }
            } + [FrameHeader(bodyLength: 0, type: .max, flags: .known, requestId: .max).encoded]
        },
        makeCheck: { { input in checkFrameHeader(input) } })

    static func checkFrameHeader(_ input: ArraySlice<UInt8>) -> FuzzOutcome {
        var acceptedUnder: Int?
        for limit in frameLimits {
            switch Result(catching: { () throws(ProtocolError) -> FrameHeader in
                try FrameHeader.decode(input, maxBodyBytes: limit)
            }) {
            case .failure(let error):
                guard error.status == .malformed || error.status == .frameTooLarge else {
                    return .violation("limit \(limit): threw \(error)")
                }
                if let acceptedUnder {
                    return .violation("accepted under limit \(acceptedUnder), refused under \(limit): \(error)")
                }
            case .success(let header):
                guard Int(header.bodyLength) <= limit else {
                    return .violation("body length \(header.bodyLength) accepted under limit \(limit)")
                }
                guard header.encoded[...] == input.prefix(FrameHeader.byteCount) else {
                    return .violation("re-encodes as \(FuzzHex.dump(header.encoded[...]))")
                }
                acceptedUnder = acceptedUnder ?? limit
            }
        }
        return acceptedUnder == nil ? .rejected : .accepted
    }
}
