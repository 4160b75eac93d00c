import Logging
import SluiceCore
import SluiceSystem
import Synchronization

/// One accepted connection after its handshake, as handlers see it. Thread-safe: any thread may respond.
///
/// Each request read from the connection is pending until answered once; its body's bytes stay accounted in
/// the server's memory budget until then. A second answer to the same request is dropped with a log.
public final class ServerConnection: Sendable {
    /// Unique within the server's lifetime; handlers may key per-connection state by it.
    public let id: UInt64
    /// "ip:port" or "[v6]:port" of the peer (an IPv4 client of a dual-stack listener in its IPv4 form).
    public let peerAddress: String
    /// The role the peer proved in its handshake (see `PeerAuthenticator`).
    public let peerRole: PeerRole
    /// The identity the peer declared in its handshake (application id, worker id...); proven with `peerProof`.
    public let peerIdentity: String
    /// What the peer proved in its handshake; access checks key on it.
    public let peerProof: PeerProof
    /// The protocol version agreed in the handshake.
    public let protocolVersion: UInt16

    let socket: FrameSocket
    private let logger: Logger
    private let budget: MemoryBudget?
    /// Where an answered request's body goes for the reader to reuse.
    private let receiveBuffers: ReceiveBufferPool?
    /// Broadcast whenever a pending request is answered or the connection closes.
    let slotFreed = ConditionVariable()

    private struct State {
        var pending: [UInt64: Int] = [:]  // requestId -> budget bytes held
        var attachment: (any Sendable)?
    }
    private let state = Mutex(State())

    init(
        id: UInt64, socket: FrameSocket, peer: AuthenticatedPeer, protocolVersion: UInt16, budget: MemoryBudget?,
        receiveBuffers: ReceiveBufferPool? = nil, logger: Logger
    ) {
        self.id = id
        self.peerAddress = socket.peerAddress
        self.peerRole = peer.role
        self.peerIdentity = peer.identity
        self.peerProof = peer.proof
        self.protocolVersion = protocolVersion
        self.socket = socket
        self.budget = budget
        self.receiveBuffers = receiveBuffers
        var logger = logger
        logger[metadataKey: "peer.role"] = "\(peer.role)"
        logger[metadataKey: "peer.identity"] = "\(peer.identity)"
        self.logger = logger
    }

    /// Whether this peer may read, write, list or delete `applicationId`'s shuffles: a worker, an unauthenticated
    /// peer of a server that does not require authentication, or the holder of that application's token.
    public func mayAccess(application applicationId: String) -> Bool {
        switch peerProof {
        case .none, .worker: true
        case .client: false
        case .application(let own): own == applicationId
        }
    }

    /// Whether this peer may act as a worker (register, heartbeat, replicate): one that proved the worker
    /// credential, or an unauthenticated peer of a server that does not require authentication.
    public var mayActAsWorker: Bool {
        switch peerProof {
        case .none, .worker: true
        case .client, .application: false
        }
    }

    /// True until the connection is closed (by either side, or by the server stopping).
    public var isOpen: Bool { socket.isOpen }

    /// Requests read but not answered yet.
    public var pendingRequestCount: Int { state.withLock { $0.pending.count } }

    /// A free slot for the handler's per-connection state (e.g. open streams); nil at first.
    public var attachment: (any Sendable)? {
        get { state.withLock { $0.attachment } }
        set { state.withLock { $0.attachment = newValue } }
    }

    /// Reads or replaces the attachment atomically.
    public func withAttachment<T>(_ body: (inout (any Sendable)?) -> T) -> T {
        state.withLock { body(&$0.attachment) }
    }

    /// Closes the connection: the reader stops, pending requests can still be answered (replies are dropped).
    public func close() {
        socket.shutdown()
        slotFreed.broadcast()
    }

    /// Answers `request` with `body` (a response frame of the request's type). Returns false when the request
    /// was already answered, or the reply could not be written (the connection is then closed).
    @discardableResult
    public func respond(to request: Frame, body: [UInt8]) -> Bool {
        answer(request) {
            try socket.write(Frame(type: request.type, flags: .response, requestId: request.requestId, body: body))
        }
    }

    /// Answers `request` with an `ErrorResponse` body carrying `status` and `message`.
    @discardableResult
    public func respondError(to request: Frame, status: StatusCode, message: String) -> Bool {
        respond(to: request, body: ErrorResponse(status, message).encode())
    }

    /// Answers `request` with `prefix` followed by `length` bytes of the file `fileDescriptor` from `offset`,
    /// sent with sendfile. The descriptor stays the caller's; it must stay open until this returns.
    @discardableResult
    public func respondWithFile(
        to request: Frame, prefix: [UInt8], fileDescriptor: Int32, offset: Int64,
        length: Int
    ) -> Bool {
        answer(request) {
            try socket.writeWithFile(
                type: request.type, flags: .response, requestId: request.requestId,
                prefix: prefix, fileFd: fileDescriptor, offset: offset, length: length)
        }
    }

    // MARK: server side

    /// Records a request as pending with the budget bytes it holds. False if its id is already pending.
    func register(requestId: UInt64, budgetBytes: Int) -> Bool {
        state.withLock { s in
            guard s.pending[requestId] == nil else { return false }
            s.pending[requestId] = budgetBytes
            return true
        }
    }

    /// Answers with an error only if the request is still pending (used after a handler threw).
    func respondErrorIfPending(to request: Frame, status: StatusCode, message: String) {
        answer(request, quiet: true) {
            try socket.write(
                Frame(
                    type: request.type, flags: .response, requestId: request.requestId,
                    body: ErrorResponse(status, message).encode()))
        }
    }

    /// Blocks while `maxPending` requests are pending. Returns false if the connection closed meanwhile.
    func waitForSlot(maxPending: Int) -> Bool {
        slotFreed.wait(until: { !socket.isOpen || pendingRequestCount < maxPending }, timeoutMs: -1)
        return socket.isOpen
    }

    @discardableResult
    private func answer(_ request: Frame, quiet: Bool = false, write: () throws -> Void) -> Bool {
        guard !request.flags.contains(.oneWay) else {
            logger.warning("reply to a one-way request dropped", metadata: ["request.type": "\(request.type)"])
            return false
        }
        guard let heldBytes = state.withLock({ $0.pending.removeValue(forKey: request.requestId) }) else {
            if quiet { return false }
            logger.warning(
                "second reply to a request dropped",
                metadata: ["request.id": "\(request.requestId)", "request.type": "\(request.type)"])
            return false
        }
        var written = false
        if socket.isOpen {
            do {
                try write()
                written = true
            } catch {
                logger.info("reply write failed; closing connection", metadata: ["error": "\(error)"])
            }
        }
        if heldBytes > 0 { budget?.release(heldBytes) }
        recycle(request.body)
        slotFreed.broadcast()
        return written
    }

    /// Hands a request body whose request is done with to the server's receive-buffer pool. The handler may still
    /// hold it for a moment; a reader that takes it meanwhile copies it on write, never overwrites it.
    func recycle(_ body: [UInt8]) {
        guard let receiveBuffers else { return }
        var spent = body
        receiveBuffers.give(&spent)
    }
}
