/// A request refused before it reached the router: the status to answer (the connection closes after it).
struct HTTPRefusal: Error, Equatable {
    var status: Int
    var reason: String
}

/// The request line and headers of an HTTP/1.x request, with what the connection needs from them.
struct HTTP1Head: Equatable {
    var method: String
    var path: String
    var query: String
    var version: String
    var headers: [HTTPHeader]
    var contentLength: Int
    var keepAlive: Bool
    var expectsContinue: Bool
    /// The HTTP2-Settings value when the request asks for an upgrade to h2c (RFC 7540 section 3.2).
    var upgradeSettings: String?
}

/// An incremental, bounded HTTP/1.1 request parser: request line, headers, Content-Length body. It keeps only
/// offsets into the caller's buffer and the parsed head; `next` is called with everything buffered so far.
struct HTTP1Parser {
    /// What the front of the buffered input holds.
    enum Outcome: Equatable {
        /// More input is needed; `head` is set once the headers are complete (for 100-continue).
        case needMore(head: HTTP1Head?)
        /// A complete request, `consumed` bytes long (head and body).
        case request(HTTP1Head, body: [UInt8], consumed: Int)
        /// An invalid or oversized request.
        case refused(HTTPRefusal)
    }

    let maxHeaderBytes: Int
    let maxBodyBytes: Int
    private var head: HTTP1Head?
    private var headBytes = 0
    private var scannedBytes = 0

    init(maxHeaderBytes: Int, maxBodyBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// True when part of a request has been seen (some bytes or a complete head) and no request completed.
    var inProgress: Bool { head != nil || scannedBytes > 0 }

    /// Parses what `input` (everything buffered, starting at a request's first byte) holds.
    mutating func next(_ input: ArraySlice<UInt8>) -> Outcome {
        if head == nil {
            guard let end = findHeadEnd(input) else {
                scannedBytes = input.count
                if let refusal = Self.refusalOfMethod(input) { return .refused(refusal) }
                if input.count > maxHeaderBytes {
                    return .refused(HTTPRefusal(status: 431, reason: "request line and headers too large"))
                }
                return .needMore(head: nil)
            }
            // The method first, as while the head is still arriving: the outcome must not depend on how the
            // bytes were split into reads (a 33-byte method was refused in pieces but served when read whole).
            if let refusal = Self.refusalOfMethod(input.prefix(end)) { return .refused(refusal) }
            guard end <= maxHeaderBytes else {
                return .refused(HTTPRefusal(status: 431, reason: "request line and headers too large"))
            }
            switch HTTP1Parser.parseHead(input.prefix(end - 4), maxBodyBytes: maxBodyBytes) {
            case .success(let parsed):
                head = parsed
                headBytes = end
            case .failure(let refusal):
                return .refused(refusal)
            }
        }
        guard let parsed = head else { return .needMore(head: nil) }
        let total = headBytes + parsed.contentLength
        guard input.count >= total else { return .needMore(head: parsed) }
        let bodyStart = input.startIndex + headBytes
        let body = Array(input[bodyStart..<(bodyStart + parsed.contentLength)])
        head = nil
        headBytes = 0
        scannedBytes = 0
        return .request(parsed, body: body, consumed: total)
    }

    /// Longest method accepted (the registered ones are at most 7 bytes; extensions get room).
    static let maxMethodBytes = 32

    /// A refusal as soon as the bytes so far cannot begin a request line: a method byte that is not a token
    /// character, or a method longer than `maxMethodBytes`. Garbage is answered at once, not after the request
    /// time-out.
    static func refusalOfMethod(_ input: ArraySlice<UInt8>) -> HTTPRefusal? {
        var length = 0
        for byte in input {
            if byte == 32 { return length == 0 ? HTTPRefusal(status: 400, reason: "malformed request line") : nil }
            guard isTokenByte(byte) else { return HTTPRefusal(status: 400, reason: "malformed request line") }
            length += 1
            if length > maxMethodBytes { return HTTPRefusal(status: 400, reason: "malformed request line") }
        }
        return nil
    }

    /// The offset just past the first CRLFCRLF, resuming the search where the last call stopped.
    private func findHeadEnd(_ input: ArraySlice<UInt8>) -> Int? {
        guard input.count >= 4 else { return nil }
        var offset = max(scannedBytes - 3, 0)
        let base = input.startIndex
        while offset + 4 <= input.count {
            if input[base + offset] == 13, input[base + offset + 1] == 10, input[base + offset + 2] == 13,
                input[base + offset + 3] == 10
            {
                return offset + 4
            }
            offset += 1
        }
        return nil
    }
}
