import Logging
import SluiceSystem

extension HTTPConnection {
    /// The HTTP/2 connection preface a prior-knowledge client starts with.
    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Chooses HTTP/2 when the input starts with the preface, HTTP/1.1 as soon as it cannot.
    func detectProtocol() {
        let preface = HTTPConnection.http2Preface
        let seen = min(input.count, preface.count)
        guard input[0..<seen].elementsEqual(preface[0..<seen]) else {
            mode = .http1
            processHTTP1()
            return
        }
        guard seen == preface.count else {
            if requestStartedMs == nil { requestStartedMs = Monotonic.nowMs() }
            return
        }
        requestStartedMs = nil
        let bytes = input
        input = []
        inputStart = 0
        guard startHTTP2() else { return }
        bytes.withUnsafeBytes { receiveHTTP2($0) }
    }

    /// Answers every complete request buffered, in order, while output is not piling up.
    func processHTTP1() {
        while !closeAfterFlush && mode == .http1 && output.count - outputStart <= HTTPConnection.outputPendingBytesMax {
            switch parser.next(input[inputStart...]) {
            case .needMore(let head):
                if parser.inProgress {
                    if requestStartedMs == nil { requestStartedMs = Monotonic.nowMs() }
                } else {
                    requestStartedMs = nil
                }
                if let head, head.expectsContinue, !continueSent, head.contentLength > 0 {
                    output.append(contentsOf: "HTTP/1.1 100 Continue\r\n\r\n".utf8)
                    continueSent = true
                }
                return
            case .refused(let refusal):
                logger.info(
                    "http request refused",
                    metadata: [
                        "http.status": "\(refusal.status)",
                        "refusal.reason": "\(refusal.reason)",
                    ])
                writeHTTP1(.text(refusal.status, refusal.reason + "\n"), keepAlive: false, headOnly: false)
                closeAfterFlush = true
                return
            case .request(let head, let body, let consumed):
                inputStart += consumed
                if inputStart == input.count {
                    input = []
                    inputStart = 0
                } else if inputStart >= HTTPConnection.readChunkBytes {
                    input.removeFirst(inputStart)
                    inputStart = 0
                }
                requestStartedMs = nil
                continueSent = false
                let request = HTTPRequest(
                    method: head.method, path: head.path, query: head.query,
                    headers: head.headers, body: body, version: head.version)
                if let settings = head.upgradeSettings {
                    upgradeToHTTP2(request, settings: settings)
                    return
                }
                let response = answer(request)
                writeHTTP1(response, keepAlive: head.keepAlive, headOnly: head.method == "HEAD")
                if !head.keepAlive { closeAfterFlush = true }
            }
        }
    }

    /// Routes `request` and logs the outcome.
    func answer(_ request: HTTPRequest) -> HTTPResponse {
        let response = context.router.respond(to: request)
        logger.debug(
            "http request served",
            metadata: [
                "http.method": "\(request.method)", "http.path": "\(request.path)", "http.status": "\(response.status)",
                "http.version": "\(request.version)",
            ])
        return response
    }

    /// Appends `response` as HTTP/1.1 with Content-Length (and Connection: close when not keeping alive).
    func writeHTTP1(_ response: HTTPResponse, keepAlive: Bool, headOnly: Bool) {
        var head = "HTTP/1.1 \(response.status) \(HTTPResponse.reason(response.status))\r\n"
        for header in response.headers {
            let name = header.name.lowercased()
            if name == "content-length" || name == "connection" || name == "transfer-encoding" { continue }
            head += "\(header.name): \(header.value)\r\n"
        }
        head += "content-length: \(response.body.count)\r\n"
        if !keepAlive { head += "connection: close\r\n" }
        head += "\r\n"
        output.append(contentsOf: head.utf8)
        if !headOnly { output.append(contentsOf: response.body) }
    }

    /// Answers 101, starts an HTTP/2 session whose stream 1 is `request`, and hands it the bytes left over.
    private func upgradeToHTTP2(_ request: HTTPRequest, settings: String) {
        guard let payload = Base64URL.decode(settings) else {
            writeHTTP1(.text(400, "malformed HTTP2-Settings\n"), keepAlive: false, headOnly: false)
            closeAfterFlush = true
            return
        }
        let rest = Array(input[inputStart...])
        input = []
        inputStart = 0
        guard startHTTP2(), let session = http2 else { return }
        guard session.upgrade(settings: payload, request: request) else {
            // Still HTTP/1.1: nothing of the session was sent.
            http2 = nil
            mode = .http1
            logger.info(
                "http request refused", metadata: ["http.status": "400", "refusal.reason": "h2c upgrade failed"])
            writeHTTP1(.text(400, "malformed HTTP2-Settings\n"), keepAlive: false, headOnly: false)
            closeAfterFlush = true
            return
        }
        // Before any frame: nghttp2's output is only taken when the connection flushes.
        output.append(
            contentsOf: "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n".utf8)
        if !rest.isEmpty { rest.withUnsafeBytes { receiveHTTP2($0) } }
    }
}
