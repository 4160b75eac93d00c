import Logging

extension HTTPConnection {
    /// Creates the HTTP/2 session (submitting our SETTINGS) and switches the connection to it.
    @discardableResult
    func startHTTP2() -> Bool {
        let config = context.config
        let logger = self.logger
        let router = context.router
        let session = HTTP2Session(
            maxConcurrentStreams: config.maxConcurrentStreams,
            maxHeaderBytes: config.maxHeaderBytes, maxBodyBytes: config.maxBodyBytes
        ) { request in
            let response = router.respond(to: request)
            logger.debug(
                "http request served",
                metadata: [
                    "http.method": "\(request.method)", "http.path": "\(request.path)",
                    "http.status": "\(response.status)", "http.version": "2",
                ])
            return response
        }
        guard let session else {
            logger.warning("http2 session could not be created")
            closeAfterFlush = true
            return false
        }
        http2 = session
        mode = .http2
        return true
    }

    /// Feeds bytes to nghttp2; on a protocol error it has queued GOAWAY, which is flushed before closing.
    func receiveHTTP2(_ bytes: UnsafeRawBufferPointer) {
        guard let session = http2 else { return }
        if let failure = session.receive(bytes) {
            logger.info("http2 connection failed", metadata: ["error": "\(failure)"])
            closeAfterFlush = true
        }
    }

    /// Moves frames nghttp2 has ready into `output`, up to the pending limit. False when nothing more will come.
    func produceHTTP2() -> Bool {
        guard let session = http2 else { return false }
        if let failure = session.produce(into: &output, limitBytes: HTTPConnection.outputPendingBytesMax) {
            logger.info("http2 connection failed", metadata: ["error": "\(failure)"])
            closeAfterFlush = true
        }
        if !session.wantsIO { closeAfterFlush = true }
        return true
    }
}
