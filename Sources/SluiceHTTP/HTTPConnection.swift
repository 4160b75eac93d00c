import Dispatch
import Logging
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

/// What every connection of one server shares.
struct HTTPServerContext: Sendable {
    var config: HTTPServerConfig
    var router: HTTPRouter
    var logger: Logger
    var system: any SystemCalls
}

/// One accepted socket, driven by a Dispatch read source (and a write source only while output waits) on its
/// own serial queue. Every mutable field is touched only on `queue`: Dispatch event handlers are not checked by
/// strict concurrency, so the confinement is by construction (`start` and `shutDown` hop onto the queue).
final class HTTPConnection: @unchecked Sendable {
    /// Bytes read per read(2); reads repeat until EAGAIN, at most `readsPerEventMax` times per event.
    static let readChunkBytes = 16 * 1024
    static let readsPerEventMax = 64
    /// Output waiting for the peer beyond which the connection stops reading (and stops producing HTTP/2 frames).
    static let outputPendingBytesMax = 1 << 20

    enum Mode { case detecting, http1, http2 }

    let id: UInt64
    let fd: Int32
    let peerAddress: String
    let queue: DispatchQueue
    let context: HTTPServerContext
    let logger: Logger
    private let onFinished: @Sendable (UInt64) -> Void

    var mode = Mode.detecting
    var input: [UInt8] = []
    var inputStart = 0
    var output: [UInt8] = []
    var outputStart = 0
    var parser: HTTP1Parser
    var continueSent = false
    var http2: HTTP2Session?
    /// Monotonic ms of the first byte of a request (or preface) not yet complete.
    var requestStartedMs: UInt64?
    var lastActivityMs: UInt64
    /// Stop taking requests (an error, Connection: close, HTTP/2 over); once output drained, half-close and linger.
    var closeAfterFlush = false
    private var inputEnded = false
    private var lingerDeadlineMs: UInt64?
    private var closing = false
    private var pendingCancels = 0
    private var readSource: DispatchSourceRead?
    private var readPaused = false
    private var writeSource: DispatchSourceWrite?
    private var writeRunning = false
    private var timer: DispatchSourceTimer?

    init(
        id: UInt64, fd: Int32, peerAddress: String, context: HTTPServerContext,
        onFinished: @escaping @Sendable (UInt64) -> Void
    ) {
        self.id = id
        self.fd = fd
        self.peerAddress = peerAddress
        self.context = context
        var logger = context.logger
        logger[metadataKey: "peer.address"] = "\(peerAddress)"
        self.logger = logger
        self.onFinished = onFinished
        queue = DispatchQueue(label: "sluice.http.connection", target: .global())
        parser = HTTP1Parser(maxHeaderBytes: context.config.maxHeaderBytes, maxBodyBytes: context.config.maxBodyBytes)
        lastActivityMs = Monotonic.nowMs()
    }

    /// Starts the read source and the timer (on the connection's queue).
    func start() {
        queue.async { [self] in
            guard !closing else { return }  // stopped before it started: already closed
            lastActivityMs = Monotonic.nowMs()
            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            source.setEventHandler { [weak self] in self?.readable() }
            source.setCancelHandler { [self] in sourceCancelled() }
            readSource = source
            let clock = DispatchSource.makeTimerSource(queue: queue)
            clock.setEventHandler { [weak self] in self?.timerFired() }
            timer = clock
            source.resume()
            clock.resume()
            rearmTimer()
        }
    }

    /// Closes the connection from any thread (server stop).
    func shutDown() { queue.async { [self] in close(reason: "server stopping") } }

    private func readable() {
        guard !closing else { return }
        var reads = 0
        reading: while !closing && !readPaused && !inputEnded && reads < HTTPConnection.readsPerEventMax {
            reads += 1
            let result = withUnsafeTemporaryAllocation(byteCount: HTTPConnection.readChunkBytes, alignment: 8) {
                buffer -> Result<Int, SystemCallError> in
                do throws(SystemCallError) {
                    let count = try context.system.receive(fd: fd, into: buffer)
                    if count > 0 {
                        lastActivityMs = Monotonic.nowMs()
                        if lingerDeadlineMs == nil && !closeAfterFlush {
                            received(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                        }
                    }
                    return .success(count)
                } catch {
                    return .failure(error)
                }
            }
            switch result {
            case .success(0):
                peerEnded()
            case .success:
                continue
            case .failure(let error) where error.isWouldBlock:
                break reading
            case .failure:
                close(reason: "read failed")
            }
        }
        afterEvent()
    }

    private func peerEnded() {
        inputEnded = true
        if lingerDeadlineMs != nil || mode == .detecting || (mode == .http1 && parser.inProgress) {
            close(reason: "peer closed")
            return
        }
        // Answer what was asked (requests held back, HTTP/2 frames due), then close: see `afterEvent`.
    }

    /// Bytes just read, handed to the protocol in use.
    private func received(_ bytes: UnsafeRawBufferPointer) {
        switch mode {
        case .detecting:
            input.append(contentsOf: bytes)
            detectProtocol()
        case .http1:
            input.append(contentsOf: bytes)
            processHTTP1()
        case .http2:
            receiveHTTP2(bytes)
        }
    }

    /// Writes what it can, keeps HTTP/2 output coming, pauses reading while output piles up, re-arms the timer.
    func afterEvent() {
        guard !closing else { return }
        flush()
        guard !closing else { return }
        if mode == .http1 && !closeAfterFlush && inputStart < input.count
            && output.count - outputStart <= HTTPConnection.outputPendingBytesMax
        {
            // Requests held back while output piled up: answer them now that it drained.
            processHTTP1()
            flush()
            guard !closing else { return }
        }
        if inputEnded && outputStart == output.count {
            // Whatever input is left is an incomplete request the peer will never finish.
            close(reason: "peer closed")
            return
        }
        if closeAfterFlush && outputStart == output.count && lingerDeadlineMs == nil {
            // Half-close and read until the peer ends, so that unread input does not turn our close into a reset
            // that discards the answer before the client reads it.
            context.system.shutdown(fd: fd, how: Int32(SHUT_WR))
            lingerDeadlineMs = Monotonic.nowMs() + UInt64(max(context.config.requestTimeoutMs, 0))
            input = []
            inputStart = 0
        }
        let pause = inputEnded || output.count - outputStart > HTTPConnection.outputPendingBytesMax
        if pause != readPaused, let source = readSource {
            readPaused = pause
            if pause { source.suspend() } else { source.resume() }
        }
        rearmTimer()
    }

    private func flush() {
        while true {
            while outputStart < output.count {
                let result = output.withUnsafeMutableBytes { buffer -> Result<Int, SystemCallError> in
                    guard let base = buffer.baseAddress else { return .success(0) }
                    var vector = iovec(iov_base: base + outputStart, iov_len: buffer.count - outputStart)
                    do throws(SystemCallError) {
                        return .success(
                            try withUnsafePointer(to: &vector) { pointer throws(SystemCallError) in
                                try context.system.send(fd: fd, vectors: UnsafeBufferPointer(start: pointer, count: 1))
                            })
                    } catch {
                        return .failure(error)
                    }
                }
                switch result {
                case .success(let count):
                    outputStart += count
                    lastActivityMs = Monotonic.nowMs()
                case .failure(let error) where error.isWouldBlock:
                    setWriteSourceRunning(true)
                    return
                case .failure:
                    close(reason: "write failed")
                    return
                }
            }
            output = []
            outputStart = 0
            guard mode == .http2, produceHTTP2(), !output.isEmpty else { break }
        }
        setWriteSourceRunning(false)
    }

    private func setWriteSourceRunning(_ running: Bool) {
        guard running != writeRunning else { return }
        if writeSource == nil {
            guard running else { return }
            let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
            source.setEventHandler { [weak self] in self?.afterEvent() }
            source.setCancelHandler { [self] in sourceCancelled() }
            writeSource = source
        }
        writeRunning = running
        if running { writeSource?.resume() } else { writeSource?.suspend() }
    }

    private func deadlineMs() -> UInt64 {
        if let linger = lingerDeadlineMs { return linger }
        let started = requestStartedMs ?? http2?.oldestIncompleteRequestMs
        if let started { return started + UInt64(max(context.config.requestTimeoutMs, 0)) }
        return lastActivityMs + UInt64(max(context.config.idleTimeoutMs, 0))
    }

    private func rearmTimer() {
        let now = Monotonic.nowMs()
        let deadline = deadlineMs()
        let waitMs = deadline > now ? Int(clamping: deadline - now) : 0
        timer?.schedule(deadline: .now() + .milliseconds(waitMs), leeway: .milliseconds(5))
    }

    private func timerFired() {
        guard !closing else { return }
        guard Monotonic.nowMs() >= deadlineMs() else { return rearmTimer() }
        // Under load the timer can run before a read event already due: take what is waiting first, so that a
        // client that did send is not closed as idle.
        readable()
        guard !closing, Monotonic.nowMs() >= deadlineMs() else { return }
        let reason =
            lingerDeadlineMs != nil
            ? "linger ended"
            : (requestStartedMs ?? http2?.oldestIncompleteRequestMs) != nil ? "request timed out" : "idle"
        close(reason: reason)
    }

    /// Cancels the sources; the descriptor is closed when the last cancel handler runs.
    func close(reason: String) {
        guard !closing else { return }
        closing = true
        logger.debug("http connection closed", metadata: ["close.reason": "\(reason)"])
        guard let readSource else {
            // The server stopped between admitting it and `start`: no source owns the descriptor yet.
            context.system.close(fd: fd)
            onFinished(id)
            return
        }
        timer?.cancel()
        pendingCancels = writeSource == nil ? 1 : 2
        if readPaused { readSource.resume() }
        readSource.cancel()
        if let source = writeSource {
            if !writeRunning { source.resume() }
            source.cancel()
        }
    }

    private func sourceCancelled() {
        pendingCancels -= 1
        guard pendingCancels == 0 else { return }
        context.system.close(fd: fd)
        readSource = nil
        writeSource = nil
        timer = nil
        http2 = nil
        onFinished(id)
    }
}
