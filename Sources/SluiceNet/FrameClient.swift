import CSluiceShim
import Dispatch
import Logging
import SluiceAuth
import SluiceCore
import SluiceSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A connection to a Sluice server, shared by many threads: requests carry ids from an atomic counter and one
/// reader thread hands each response to its request's waiter. At most `maxInFlightRequests` requests are
/// outstanding; each fails with a `NetError` (ETIMEDOUT) after its time-out, and a late response is dropped.
/// When the connection is lost every outstanding request fails at once and later requests fail fast.
/// Call `close()` when done: the reader thread keeps the client alive until the connection ends.
public final class FrameClient: Sendable, RequestExpiring {
    /// Completion of an asynchronous request. Runs on the reader thread, the time-out thread or the caller's
    /// thread; it must return quickly and must not wait for another response from this client.
    public typealias Completion = @Sendable (Result<Frame, any Error>) -> Void

    /// The endpoint this client was connected to, as "host:port" or "[v6]:port".
    public let endpoint: String
    /// The server's id from its handshake reply.
    public let serverId: String
    /// The configuration given at connection.
    public let config: FrameClientConfig

    private let socket: FrameSocket
    private let logger: Logger
    private let nextRequestId = Atomic<UInt64>(1)
    /// Large bodies handed back by consumers, read into again; nil when `config.reusedBodies` is 0.
    public let receiveBuffers: ReceiveBufferPool?

    private struct Pending {
        let deadlineNs: UInt64
        let completion: Completion
    }
    private struct State {
        var pending: [UInt64: Pending] = [:]
        /// Slots taken: pending requests plus senders between reserving and registering.
        var reservedSlots = 0
        var failure: NetError?
    }
    private let state = Mutex(State())
    private let slotFreed = ConditionVariable()

    private init(endpoint: String, serverId: String, socket: FrameSocket, config: FrameClientConfig, logger: Logger) {
        self.endpoint = endpoint
        self.serverId = serverId
        self.socket = socket
        self.config = config
        self.logger = logger
        receiveBuffers =
            config.reusedBodies > 0
            ? ReceiveBufferPool(minimumBytes: config.reusedBodyMinimumBytes, maxCount: config.reusedBodies) : nil
    }

    /// Hands a response body back for the reader to read a later large body into; `body` is left empty. Call it
    /// only once nothing else holds a slice of the body that could still be read (one that is would be copied, not
    /// overwritten, so this is about speed, not safety).
    public func recycle(_ body: inout [UInt8]) {
        if let receiveBuffers { receiveBuffers.give(&body) } else { body = [] }
    }

    /// Connects to `host:port` and performs the handshake announcing `role` and `identity`, proving `credential`
    /// when there is one (and then requiring the server to prove it too).
    /// Throws `NetError` when the connection fails or times out, and `ProtocolError` with the server's status
    /// when the server refuses the handshake (or, with a credential, cannot prove it holds the same key).
    public static func connect(
        host: String, port: Int, role: PeerRole, identity: String, credential: Credential? = nil,
        config: FrameClientConfig = FrameClientConfig(),
        logger: Logger = Logger(label: "sluice.net.client"),
        system: any SystemCalls = PosixSystem()
    ) throws -> FrameClient {
        sluice_ignore_sigpipe()
        let endpoint = EndpointText.format(host: host, port: port)
        let fd = try Sockets.connect(host: host, port: port, timeoutMs: config.connectTimeoutMs)
        let socket = FrameSocket(fd: fd, peerAddress: endpoint, system: system)
        do {
            try Sockets.configure(fd, sendTimeoutMs: config.sendTimeoutMs, socketBufferBytes: config.socketBufferBytes)
            let serverId = try handshake(
                socket, role: role, identity: identity, credential: credential, timeoutMs: config.connectTimeoutMs)
            var logger = logger
            logger[metadataKey: "peer.address"] = "\(endpoint)"
            let client = FrameClient(
                endpoint: endpoint, serverId: serverId, socket: socket, config: config,
                logger: logger)
            try SystemThread.spawn(stackBytes: config.threadStackBytes) { client.readLoop() }
            RequestTimeoutSweeper.shared.register(client)
            return client
        } catch {
            socket.close()
            throw error
        }
    }

    private static func handshake(
        _ socket: FrameSocket, role: PeerRole, identity: String, credential: Credential?,
        timeoutMs: Int
    ) throws -> String {
        let clientNonce = credential.map { _ in Nonce.random() }
        let hello = HelloRequest(role: role, identity: identity, clientNonce: clientNonce).encode()
        try socket.write(Frame(type: .hello, requestId: 0, body: hello))
        _ = sluice_set_receive_timeout_ms(socket.fd, UInt32(clamping: max(timeoutMs, 1)))
        let body = try readHandshakeReply(socket, type: .hello, timeoutMs: timeoutMs)
        let reply = try HelloResponse.decode(body[...])
        guard reply.status == .ok else { throw ProtocolError(reply.status, reply.message) }
        guard reply.version == ProtocolVersion.current else {
            throw ProtocolError(.unsupportedVersion, "server speaks protocol version \(reply.version)")
        }
        if let credential, let clientNonce {
            guard let serverNonce = reply.serverNonce else {
                throw ProtocolError(
                    .unauthenticated,
                    "server \(socket.peerAddress) does not authenticate peers; a client holding a secret only talks to "
                        + "servers that prove the same cluster secret")
            }
            let transcript = HandshakeTranscript(
                role: role, identity: identity, kind: credential.kind, clientNonce: clientNonce,
                serverNonce: serverNonce, serverId: reply.serverId)
            let answer = AuthenticateRequest(kind: credential.kind, proof: credential.peerProof(transcript))
            try socket.write(Frame(type: .authenticate, requestId: 1, body: answer.encoded()))
            let proofBody = try readHandshakeReply(socket, type: .authenticate, timeoutMs: timeoutMs)
            var reader = WireReader(proofBody[...])
            let accepted = try AuthenticateResponse.decode(from: &reader)
            try accepted.head.requireOK()
            guard credential.isValidServerProof(accepted.serverProof, transcript) else {
                throw ProtocolError(
                    .unauthenticated, "server \(socket.peerAddress) could not prove the cluster secret")
            }
        }
        _ = sluice_set_receive_timeout_ms(socket.fd, 0)
        return reply.serverId
    }

    /// Reads one handshake reply of `type` (within `timeoutMs`) and returns its body.
    private static func readHandshakeReply(_ socket: FrameSocket, type: MessageType, timeoutMs: Int) throws -> [UInt8] {
        let giveUp: () throws -> Void = {
            throw NetError.timedOut("handshake", "no handshake reply within \(timeoutMs) ms")
        }
        guard let header = try socket.readHeader(maxBodyBytes: 64 * 1024, onTimeout: giveUp) else {
            throw NetError.connectionClosed("handshake", "server closed the connection during the handshake")
        }
        let body = try socket.readBody(count: Int(header.bodyLength), onTimeout: giveUp)
        guard header.flags.contains(.response) else {
            throw ProtocolError(.malformed, "handshake reply is not a response")
        }
        guard header.type == type.rawValue else {
            // A refusal may come as an error reply of another type: its body still starts with the status.
            let refusal = try ErrorResponse.decode(body[...])
            throw ProtocolError(refusal.status == .ok ? .malformed : refusal.status, refusal.message)
        }
        return body
    }

    /// True until the connection is lost or closed.
    public var isConnected: Bool { state.withLock { $0.failure == nil } && socket.isOpen }

    /// Requests awaiting a response.
    public var inFlightRequestCount: Int { state.withLock { $0.pending.count } }

    /// Sends a request and blocks until its response arrives (any status: decode the body to check it).
    /// Throws `NetError` on time-out (`timeoutMs`, default `config.requestTimeoutMs`) or connection loss.
    /// Blocks the calling thread: never call it from a Dispatch handler or from a completion of this client.
    public func call(type: MessageType, body: [UInt8], timeoutMs: Int? = nil) throws -> Frame {
        try call(rawType: type.rawValue, body: body, timeoutMs: timeoutMs)
    }

    /// `call` with a raw message type (e.g. one this build does not know).
    public func call(rawType: UInt16, body: [UInt8], timeoutMs: Int? = nil) throws -> Frame {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Frame, any Error>?>(nil)
        send(rawType: rawType, body: body, timeoutMs: timeoutMs) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        guard let result = outcome.withLock({ $0 }) else {
            throw NetError(code: EIO, call: "request", message: "request completed without a result")
        }
        return try result.get()
    }

    /// Sends a request; `completion` receives its response or error exactly once.
    /// Blocks while `maxInFlightRequests` are outstanding (within the request's time-out).
    public func send(type: MessageType, body: [UInt8], timeoutMs: Int? = nil, completion: @escaping Completion) {
        send(rawType: type.rawValue, body: body, timeoutMs: timeoutMs, completion: completion)
    }

    /// `send` with a raw message type.
    public func send(rawType: UInt16, body: [UInt8], timeoutMs: Int? = nil, completion: @escaping Completion) {
        send(rawType: rawType, bodyParts: [body[...]], timeoutMs: timeoutMs, completion: completion)
    }

    /// `send` of a body given as parts written in order without joining them first (see `PushRequest.encodedParts`).
    public func send(
        type: MessageType, bodyParts: [ArraySlice<UInt8>], timeoutMs: Int? = nil,
        completion: @escaping Completion
    ) {
        send(rawType: type.rawValue, bodyParts: bodyParts, timeoutMs: timeoutMs, completion: completion)
    }

    private func send(
        rawType: UInt16, bodyParts: [ArraySlice<UInt8>], timeoutMs: Int?, completion: @escaping Completion
    ) {
        let timeout = max(timeoutMs ?? config.requestTimeoutMs, 0)
        let deadlineNs = Monotonic.nowNs() + UInt64(timeout) * 1_000_000
        if let failure = reserveSlot(timeoutMs: timeout) {
            completion(.failure(failure))
            return
        }
        let requestId = nextRequestId.add(1, ordering: .relaxed).oldValue
        let registered = state.withLock { s -> NetError? in
            if let failure = s.failure {
                s.reservedSlots -= 1
                return failure
            }
            s.pending[requestId] = Pending(deadlineNs: deadlineNs, completion: completion)
            return nil
        }
        if let failure = registered {
            slotFreed.broadcast()
            completion(.failure(failure))
            return
        }
        do {
            try socket.write(type: rawType, requestId: requestId, bodyParts: bodyParts)
        } catch {
            // The socket shut itself down: the reader fails everything else.
            complete(requestId, .failure(error))
        }
    }

    /// Fails every outstanding request and closes the connection. Idempotent.
    public func close() {
        fail(with: NetError.connectionClosed("request", "client closed"))
        socket.shutdown()
        RequestTimeoutSweeper.shared.unregister(self)
    }

    // MARK: internals

    /// Takes an in-flight slot, waiting up to `timeoutMs`. Returns the error when none could be taken.
    private func reserveSlot(timeoutMs: Int) -> NetError? {
        let limit = max(config.maxInFlightRequests, 1)
        var failure: NetError?
        let taken = slotFreed.wait(
            until: {
                self.state.withLock { s in
                    if let f = s.failure {
                        failure = f
                        return true
                    }
                    guard s.reservedSlots < limit else { return false }
                    s.reservedSlots += 1
                    return true
                }
            }, timeoutMs: timeoutMs)
        if let failure { return failure }
        if taken { return nil }
        return NetError.timedOut("request", "no free in-flight slot within \(timeoutMs) ms (\(limit) outstanding)")
    }

    /// Completes one request if it is still outstanding (first completion wins).
    private func complete(_ requestId: UInt64, _ result: Result<Frame, any Error>) {
        let pending = state.withLock { s -> Pending? in
            guard let p = s.pending.removeValue(forKey: requestId) else { return nil }
            s.reservedSlots -= 1
            return p
        }
        guard let pending else { return }
        slotFreed.broadcast()
        pending.completion(result)
    }

    /// Marks the connection failed and fails every outstanding request with `error`.
    private func fail(with error: NetError) {
        let failed = state.withLock { s -> [Pending] in
            if s.failure == nil { s.failure = error }
            let all = Array(s.pending.values)
            s.reservedSlots -= all.count
            s.pending.removeAll()
            return all
        }
        slotFreed.broadcast()
        for pending in failed { pending.completion(.failure(error)) }
    }

    func expireRequests(nowNs: UInt64) {
        let expired = state.withLock { s -> [(UInt64, Pending)] in
            let due = s.pending.filter { $0.value.deadlineNs <= nowNs }
            for (id, _) in due { s.pending.removeValue(forKey: id) }
            s.reservedSlots -= due.count
            return due.map { ($0.key, $0.value) }
        }
        guard !expired.isEmpty else { return }
        slotFreed.broadcast()
        for (id, pending) in expired {
            pending.completion(.failure(NetError.timedOut("request", "request \(id) to \(endpoint) timed out")))
        }
    }

    private func readLoop() {
        var ending = NetError.connectionClosed("read", "server closed the connection")
        while true {
            do {
                guard let frame = try socket.readFrame(maxBodyBytes: config.maxFrameBodyBytes, pool: receiveBuffers)
                else { break }
                guard frame.isResponse else {
                    logger.warning("request frame from a server ignored", metadata: ["request.type": "\(frame.type)"])
                    continue
                }
                complete(frame.requestId, .success(frame))
            } catch {
                if let net = error as? NetError {
                    ending = net
                } else {
                    ending = NetError(code: EPROTO, call: "read", message: "\(error)")
                }
                break
            }
        }
        if isConnected { logger.info("connection lost", metadata: ["error": "\(ending)"]) }
        fail(with: NetError.connectionClosed("request", "connection to \(endpoint) lost: \(ending.message)"))
        RequestTimeoutSweeper.shared.unregister(self)
        socket.close()
    }
}
