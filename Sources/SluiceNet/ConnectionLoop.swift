import CSluiceShim
import Logging
import SluiceCore
import SluiceSystem

/// The body of one connection thread: handshake, then read frames and dispatch them until the connection ends.
struct ConnectionLoop {
    let id: UInt64
    let socket: FrameSocket
    let config: FrameServerConfig
    let handler: any FrameHandler
    let authenticator: any PeerAuthenticator
    let logger: Logger

    /// How the loop ended: close at once, or after an error reply (so the peer can read it).
    private enum Ending { case close, closeAfterReply }

    /// Runs the connection to its end and closes the socket. Never throws: errors end this connection only.
    func run() {
        if config.idleTimeoutMs > 0 {
            _ = sluice_set_receive_timeout_ms(socket.fd, UInt32(clamping: config.idleTimeoutMs))
        }
        var idle = IdleClock(timeoutMs: config.idleTimeoutMs)
        guard let (peer, version) = handshake(&idle) else { return }
        let connection = ServerConnection(
            id: id, socket: socket, peer: peer, protocolVersion: version,
            budget: config.memoryBudget, receiveBuffers: config.receiveBuffers, logger: logger)
        logger.debug("connection ready", metadata: ["peer.role": "\(peer.role)", "peer.identity": "\(peer.identity)"])
        let ending = serve(connection, &idle)
        switch ending {
        case .close: socket.close()
        case .closeAfterReply: socket.closeAfterReply()  // before anything resets the connection
        }
        connection.close()
        handler.connectionClosed(connection)
    }

    // MARK: handshake

    /// Reads and answers the hello: the version must be in `config.supportedVersions`, then the authenticator
    /// decides what the peer proved. Nil when the connection was refused or lost (it is closed then).
    private func handshake(_ idle: inout IdleClock) -> (AuthenticatedPeer, UInt16)? {
        let header: FrameHeader
        do {
            guard
                let h = try socket.readHeader(
                    maxBodyBytes: min(config.maxFrameBodyBytes, 64 * 1024),
                    onTimeout: idle.check)
            else {
                socket.close()
                return nil
            }
            header = h
        } catch let bad as InvalidFrameHeader {
            refuse(type: bad.type, requestId: bad.requestId, bad.error.status, bad.error.message)
            return nil
        } catch {
            logger.info("handshake read failed", metadata: ["error": "\(error)"])
            socket.close()
            return nil
        }
        guard header.type == MessageType.hello.rawValue, !header.flags.contains(.response) else {
            refuse(type: header.type, requestId: header.requestId, .handshakeRequired, "the first frame must be hello")
            return nil
        }
        let body: [UInt8]
        do {
            body = try socket.readBody(count: Int(header.bodyLength), onTimeout: idle.check)
        } catch {
            logger.info("handshake read failed", metadata: ["error": "\(error)"])
            socket.close()
            return nil
        }
        idle.frameCompleted()
        let hello: HelloRequest
        do {
            hello = try HelloRequest.decode(body[...])
        } catch {
            refuse(type: header.type, requestId: header.requestId, error.status, error.message)
            return nil
        }
        let versions = config.supportedVersions
        guard versions.contains(hello.version) else {
            let reply = HelloResponse(
                status: .unsupportedVersion,
                message: "protocol version \(hello.version) is not supported "
                    + "(this server speaks \(versions.lowerBound) to \(versions.upperBound))",
                version: versions.upperBound, serverId: config.serverId)
            refuse(type: header.type, requestId: header.requestId, body: reply.encode(), status: .unsupportedVersion)
            return nil
        }
        switch authenticator.start(hello, peerAddress: socket.peerAddress) {
        case .decided(.accepted(let peer)):
            let reply = HelloResponse(version: hello.version, serverId: config.serverId).encode()
            guard sendHandshakeReply(header.requestId, type: .hello, reply) else { return nil }
            return (peer, hello.version)
        case .decided(.refused(let status, let message)):
            logRefusal(hello, status: status, message)
            let reply = HelloResponse(
                status: status, message: message, version: hello.version, serverId: config.serverId)
            refuse(type: header.type, requestId: header.requestId, body: reply.encode(), status: status)
            return nil
        case .challenge(let serverNonce):
            let reply = HelloResponse(version: hello.version, serverId: config.serverId, serverNonce: serverNonce)
            guard sendHandshakeReply(header.requestId, type: .hello, reply.encode()) else { return nil }
            guard let peer = authenticate(hello, serverNonce: serverNonce, &idle) else { return nil }
            return (peer, hello.version)
        }
    }

    /// Reads the peer's `authenticate` frame, checks its proof and answers with the server's proof. Nil when the
    /// peer was refused or the connection lost (it is closed then). Any other frame is refused unread.
    private func authenticate(_ hello: HelloRequest, serverNonce: [UInt8], _ idle: inout IdleClock)
        -> AuthenticatedPeer?
    {
        let header: FrameHeader
        let body: [UInt8]
        do {
            guard let h = try socket.readHeader(maxBodyBytes: 4096, onTimeout: idle.check) else {
                socket.close()
                return nil
            }
            header = h
            guard header.type == MessageType.authenticate.rawValue, !header.flags.contains(.response) else {
                logRefusal(hello, status: .unauthenticated, "expected authenticate")
                refuse(
                    type: header.type, requestId: header.requestId, .unauthenticated,
                    "the frame after an authenticated hello must be authenticate")
                return nil
            }
            body = try socket.readBody(count: Int(header.bodyLength), onTimeout: idle.check)
        } catch let bad as InvalidFrameHeader {
            refuse(type: bad.type, requestId: bad.requestId, bad.error.status, bad.error.message)
            return nil
        } catch {
            logger.info("handshake read failed", metadata: ["error": "\(error)"])
            socket.close()
            return nil
        }
        idle.frameCompleted()
        let answer: AuthenticateRequest
        switch Result(catching: { () throws(ProtocolError) -> AuthenticateRequest in
            var reader = WireReader(body[...])
            return try AuthenticateRequest.decode(from: &reader)
        }) {
        case .success(let decoded): answer = decoded
        case .failure(let error):
            refuse(type: header.type, requestId: header.requestId, error.status, error.message)
            return nil
        }
        let (outcome, serverProof) = authenticator.finish(
            hello, serverNonce: serverNonce, serverId: config.serverId, answer: answer,
            peerAddress: socket.peerAddress)
        switch outcome {
        case .accepted(let peer):
            let reply = AuthenticateResponse(serverProof: serverProof).encoded()
            guard sendHandshakeReply(header.requestId, type: .authenticate, reply) else { return nil }
            return peer
        case .refused(let status, let message):
            logRefusal(hello, status: status, message)
            let reply = AuthenticateResponse(head: ResponseHead(status, message)).encoded()
            refuse(type: header.type, requestId: header.requestId, body: reply, status: status)
            return nil
        }
    }

    /// Writes a handshake reply; false (connection closed) when it cannot be written.
    private func sendHandshakeReply(_ requestId: UInt64, type: MessageType, _ body: [UInt8]) -> Bool {
        do {
            try socket.write(Frame(type: type, flags: .response, requestId: requestId, body: body))
            return true
        } catch {
            logger.info("handshake reply failed", metadata: ["error": "\(error)"])
            socket.close()
            return false
        }
    }

    private func logRefusal(_ hello: HelloRequest, status: StatusCode, _ message: String) {
        logger.warning(
            "handshake not authenticated",
            metadata: [
                "peer.address": "\(socket.peerAddress)",
                "peer.role": "\(hello.role)",
                "peer.identity": "\(hello.identity)",
                "status": "\(status)",
                "reason": "\(message)",
            ])
    }

    private func refuse(type: UInt16, requestId: UInt64, _ status: StatusCode, _ message: String) {
        refuse(type: type, requestId: requestId, body: ErrorResponse(status, message).encode(), status: status)
    }

    private func refuse(type: UInt16, requestId: UInt64, body: [UInt8], status: StatusCode) {
        logger.info("handshake refused", metadata: ["status": "\(status)"])
        try? socket.write(Frame(type: type, flags: .response, requestId: requestId, body: body))
        socket.closeAfterReply()
    }

    // MARK: requests

    private func serve(_ connection: ServerConnection, _ idle: inout IdleClock) -> Ending {
        let budget = config.budgetExemptRoles.contains(connection.peerRole) ? nil : config.memoryBudget
        while true {
            guard connection.waitForSlot(maxPending: max(config.maxInFlightRequestsPerConnection, 1)) else {
                return .close
            }
            idle.frameCompleted()  // time spent waiting for our own replies is not the peer's idleness
            let header: FrameHeader
            do {
                guard let h = try socket.readHeader(maxBodyBytes: config.maxFrameBodyBytes, onTimeout: idle.check)
                else { return .close }
                header = h
            } catch let bad as InvalidFrameHeader {
                logger.info("invalid frame header; closing connection", metadata: ["error": "\(bad.error)"])
                let reply = ErrorResponse(bad.error.status, bad.error.message).encode()
                try? socket.write(Frame(type: bad.type, flags: .response, requestId: bad.requestId, body: reply))
                return .closeAfterReply
            } catch {
                logReadFailure(error)
                return .close
            }
            // The body is accounted before it is read: a paused budget stops this reader here, and readers woken
            // together reserve one at a time, so they cannot all read a frame past the high watermark.
            let heldBytes = Int(header.bodyLength)
            if let budget, heldBytes > 0 {
                while !budget.acquireUnlessPaused(heldBytes) {
                    guard socket.isOpen else { return .close }
                    budget.waitUntilBelowHighWatermark(timeoutMs: 50)
                }
                idle.frameCompleted()
            } else {
                config.memoryBudget?.acquire(heldBytes)  // exempt peers are counted, never paused
            }
            let body: [UInt8]
            do {
                body = try socket.readBody(count: heldBytes, pool: config.receiveBuffers, onTimeout: idle.check)
            } catch {
                config.memoryBudget?.release(heldBytes)
                logReadFailure(error)
                return .close
            }
            idle.frameCompleted()
            let frame = Frame(type: header.type, flags: header.flags, requestId: header.requestId, body: body)
            if let ending = dispatch(frame, heldBytes: heldBytes, on: connection) { return ending }
        }
    }

    /// Routes one complete frame whose body holds `heldBytes` of the memory budget (released here, or when the
    /// request is answered). Returns an ending when the connection must close.
    private func dispatch(_ frame: Frame, heldBytes: Int, on connection: ServerConnection) -> Ending? {
        if frame.isResponse {
            config.memoryBudget?.release(heldBytes)
            logger.info("response frame from a client; closing connection")
            let reply = ErrorResponse(.malformed, "unexpected response frame").encode()
            try? socket.write(Frame(type: frame.type, flags: .response, requestId: frame.requestId, body: reply))
            return .closeAfterReply
        }
        if frame.flags.contains(.oneWay) {
            invokeHandler(frame, on: connection)
            config.memoryBudget?.release(heldBytes)
            connection.recycle(frame.body)
            return nil
        }
        guard connection.register(requestId: frame.requestId, budgetBytes: heldBytes) else {
            config.memoryBudget?.release(heldBytes)
            logger.info("duplicate request id; closing connection", metadata: ["request.id": "\(frame.requestId)"])
            let reply = ErrorResponse(.malformed, "request id \(frame.requestId) is already pending").encode()
            try? socket.write(Frame(type: frame.type, flags: .response, requestId: frame.requestId, body: reply))
            return .closeAfterReply
        }
        switch MessageType(rawValue: frame.type) {
        case .ping where !frame.body.isEmpty:
            connection.respondError(to: frame, status: .malformed, message: "ping takes no body")
        case .ping:
            connection.respond(to: frame, body: ErrorResponse(.ok, "").encode())
        case .hello, .authenticate:
            connection.respondError(to: frame, status: .invalidArgument, message: "handshake already done")
        default:
            invokeHandler(frame, on: connection)
        }
        return nil
    }

    private func invokeHandler(_ frame: Frame, on connection: ServerConnection) {
        do {
            try handler.handle(request: frame, on: connection)
        } catch {
            let status = (error as? ProtocolError)?.status ?? .internalError
            logger.debug("handler failed", metadata: ["error": "\(error)", "request.type": "\(frame.type)"])
            if !frame.flags.contains(.oneWay) {
                connection.respondErrorIfPending(to: frame, status: status, message: "\(error)")
            }
        }
    }

    private func logReadFailure(_ error: any Error) {
        if let net = error as? NetError, net.isTimeout {
            logger.info("idle connection closed", metadata: ["error": "\(net)"])
        } else {
            logger.debug("connection read ended", metadata: ["error": "\(error)"])
        }
    }
}

/// Tracks when the last complete frame arrived; `check` throws once the idle time-out has passed.
struct IdleClock {
    let timeoutNs: UInt64
    private(set) var lastFrameNs = Monotonic.nowNs()

    init(timeoutMs: Int) { timeoutNs = UInt64(max(timeoutMs, 0)) * 1_000_000 }

    mutating func frameCompleted() { lastFrameNs = Monotonic.nowNs() }

    /// Called when a read timed out (SO_RCVTIMEO): throws when no frame completed within the time-out.
    func check() throws {
        guard timeoutNs > 0 else { return }
        if Monotonic.nowNs() &- lastFrameNs >= timeoutNs {
            throw NetError.timedOut("read", "no complete frame for \(timeoutNs / 1_000_000) ms")
        }
    }
}
