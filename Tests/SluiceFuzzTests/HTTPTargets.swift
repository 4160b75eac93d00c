import SluiceTestKit

@testable import SluiceHTTP

/// Fuzz targets for the HTTP/1.1 request parser, the HTTP/2 session (nghttp2 driven in memory: `receive` and
/// `produce` take and give bytes, no socket) and the HTTP2-Settings decoder.
enum HTTPTargets {
    static let all: [FuzzTarget] = [http1, http2, base64URL]

    /// Small limits, so that mutations reach them.
    static let maxHeaderBytes = 512
    static let maxBodyBytes = 256

    // MARK: HTTP/1.1

    /// One request the parser completed.
    struct HTTP1Request: Equatable {
        var head: HTTP1Head
        var body: [UInt8]
    }

    /// What a connection makes of a byte stream: the requests it completes, then how it stops.
    struct HTTP1Transcript: Equatable {
        var requests: [HTTP1Request] = []
        /// The refusal's status, or nil when the input ended waiting for more.
        var refusal: Int?
    }

    /// The input fed whole, in pseudo-random pieces and a byte at a time, as a connection buffers it: every way
    /// gives the same requests and the same end; requests respect the limits; refusals use the parser's statuses.
    static let http1 = FuzzTarget(
        name: "HTTP1Parser", covers: ["HTTP1Parser"],
        seeds: {
            [
                "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /api/v1/workers?limit=5&x=%20 HTTP/1.1\r\nHost: master:9098\r\nAccept: */*\r\n\r\n",
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello",
                "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "GET /old HTTP/1.0\r\n\r\n",
                "PUT /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
                "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAAQAoAAA\r\n\r\n",
            ].map { Array($0.utf8) }
        },
        makeCheck: { { input in checkHTTP1(input) } })

    static func checkHTTP1(_ input: ArraySlice<UInt8>) -> FuzzOutcome {
        let whole = feedHTTP1(input, pieceBytes: [input.count])
        if let problem = whole.problem { return .violation("fed whole: \(problem)") }
        var random = SeededGenerator(seed: FNV.hash(input))
        let pieces = (0..<input.count).map { _ in Int(random.next() % 9) + 1 }
        for (name, sizes) in [("in pieces", pieces), ("a byte at a time", [1])] {
            let split = feedHTTP1(input, pieceBytes: sizes)
            if let problem = split.problem { return .violation("fed \(name): \(problem)") }
            guard split.transcript == whole.transcript else {
                return .violation("fed \(name): \(split.transcript), fed whole: \(whole.transcript)")
            }
        }
        return whole.transcript.requests.isEmpty ? .rejected : .accepted
    }

    /// Feeds `input` in pieces of the given sizes (cycled), answering each complete request as a connection does.
    static func feedHTTP1(_ input: ArraySlice<UInt8>, pieceBytes: [Int]) -> (
        transcript: HTTP1Transcript, problem: String?
    ) {
        var parser = HTTP1Parser(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        var transcript = HTTP1Transcript()
        var buffered: [UInt8] = []
        var start = 0
        var offset = input.startIndex
        var piece = 0
        while offset < input.endIndex {
            let count = min(max(pieceBytes[piece % pieceBytes.count], 1), input.endIndex - offset)
            buffered.append(contentsOf: input[offset..<(offset + count)])
            offset += count
            piece += 1
            parsing: while true {
                switch parser.next(buffered[start...]) {
                case .needMore: break parsing
                case .refused(let refusal):
                    transcript.refusal = refusal.status
                    guard [400, 413, 431, 501, 505].contains(refusal.status) else {
                        return (transcript, "refused with status \(refusal.status)")
                    }
                    return (transcript, nil)
                case .request(let head, let body, let consumed):
                    guard consumed > 0, consumed <= buffered.count - start, body.count == head.contentLength,
                        body.count <= maxBodyBytes, consumed - body.count <= maxHeaderBytes
                    else {
                        return (transcript, "request over its limits: consumed \(consumed), body \(body.count)")
                    }
                    transcript.requests.append(HTTP1Request(head: head, body: body))
                    start += consumed
                }
            }
        }
        return (transcript, nil)
    }

    // MARK: HTTP/2

    static let maxConcurrentStreams = 4

    /// The client preface and the input, in pieces, through one server session, taking its output after each
    /// piece: no crash, the stream table stays bounded, and requests reach the router within the limits. An input
    /// nghttp2 takes to its end without ending the connection is accepted.
    static let http2 = FuzzTarget(
        name: "HTTP2Session", covers: ["HTTP2Session"],
        seeds: {
            let settings = H2.frame(type: 4, flags: 0, stream: 0, payload: [])
            let get = H2.frame(type: 1, flags: 0x5, stream: 1, payload: H2.requestBlock("GET", "/hello"))
            let post = H2.frame(type: 1, flags: 0x4, stream: 3, payload: H2.requestBlock("POST", "/echo"))
            let data = H2.frame(type: 0, flags: 0x1, stream: 3, payload: Array("hello".utf8))
            let ping = H2.frame(type: 6, flags: 0, stream: 0, payload: [1, 2, 3, 4, 5, 6, 7, 8])
            let window = H2.frame(type: 8, flags: 0, stream: 0, payload: [0, 1, 0, 0])
            let settingsAck = H2.frame(type: 4, flags: 1, stream: 0, payload: [])
            let split = H2.requestBlock("GET", "/split")
            let headersPart = H2.frame(type: 1, flags: 0x1, stream: 5, payload: Array(split.prefix(3)))
            let continuation = H2.frame(type: 9, flags: 0x4, stream: 5, payload: Array(split.dropFirst(3)))
            let reset = H2.frame(type: 3, flags: 0, stream: 3, payload: [0, 0, 0, 8])
            let laterGet = H2.frame(type: 1, flags: 0x5, stream: 7, payload: H2.requestBlock("GET", "/later"))
            let goAway = H2.frame(type: 7, flags: 0, stream: 0, payload: [0, 0, 0, 1, 0, 0, 0, 0])
            return [
                settings, settings + get, settings + post + data, settings + settingsAck + ping + window + get,
                settings + headersPart + continuation, settings + post + reset + laterGet, settings + get + goAway,
            ]
        },
        makeCheck: { { input in checkHTTP2(input) } })

    static func checkHTTP2(_ input: ArraySlice<UInt8>) -> FuzzOutcome { driveHTTP2(input).outcome }

    /// Runs one input through a new session; also returns how many requests reached the router and how many bytes
    /// the session wrote.
    static func driveHTTP2(_ input: ArraySlice<UInt8>) -> (outcome: FuzzOutcome, requests: Int, outputBytes: Int) {
        let router = RecordingRouter()
        guard
            let session = HTTP2Session(
                maxConcurrentStreams: maxConcurrentStreams, maxHeaderBytes: maxHeaderBytes,
                maxBodyBytes: maxBodyBytes, respond: router.respond)
        else { return (.violation("the session could not be created"), 0, 0) }
        let outcome = feed(input, to: session, router: router)
        return (outcome, router.requests, router.outputBytes)
    }

    private static func feed(_ input: ArraySlice<UInt8>, to session: HTTP2Session, router: RecordingRouter)
        -> FuzzOutcome
    {
        let bytes = HTTPConnection.http2Preface + input
        var random = SeededGenerator(seed: FNV.hash(input))
        var output: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            let count = min(Int(random.next() % 64) + 1, bytes.count - offset)
            let failure = bytes[offset..<(offset + count)].withUnsafeBytes { session.receive($0) }
            offset += count
            output.removeAll(keepingCapacity: true)
            let produceFailure = session.produce(into: &output, limitBytes: 1 << 16)
            router.outputBytes += output.count
            guard session.streams.count <= maxConcurrentStreams * 2 else {
                return .violation("\(session.streams.count) streams held")
            }
            if let problem = router.problem { return .violation(problem) }
            if failure != nil || produceFailure != nil { return .rejected }
            // nghttp2 ends a connection it finds in error (GOAWAY) by wanting neither to read nor to write.
            if !session.wantsIO { return offset < bytes.count ? .rejected : .accepted }
        }
        return .accepted
    }

    /// Answers every request with a short text and checks it arrived within the session's limits.
    final class RecordingRouter {
        var problem: String?
        var requests = 0
        var outputBytes = 0

        func respond(_ request: HTTPRequest) -> HTTPResponse {
            requests += 1
            if request.body.count > maxBodyBytes { problem = "a body of \(request.body.count) bytes was routed" }
            return .text(200, "ok\n")
        }
    }

    // MARK: HTTP2-Settings

    /// `Base64URL.decode` of the input as text: nil exactly when a character is outside both alphabets and "=",
    /// else 6 bits a character, whole bytes only.
    static let base64URL = FuzzTarget(
        name: "Base64URL", covers: ["Base64URL"],
        seeds: { ["AAMAAABkAAQAoAAA", "", "QQ==", "-_+/", "AAEC"].map { Array($0.utf8) } },
        makeCheck: {
            { input in
                let text = String(decoding: input, as: UTF8.self)
                let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/".utf8)
                let valid = text.utf8.allSatisfy { alphabet.contains($0) || $0 == UInt8(ascii: "=") }
                let digits = text.utf8.filter { alphabet.contains($0) }.count
                switch (Base64URL.decode(text), valid) {
                case (nil, false): return .rejected
                case (.some(let bytes), true):
                    return bytes.count == digits * 6 / 8 ? .accepted : .violation("\(bytes.count) bytes")
                case (let decoded, _): return .violation("decoded \(String(describing: decoded)), valid \(valid)")
                }
            }
        })
}

/// HTTP/2 frames and HPACK header blocks for the seeds.
enum H2 {
    static func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        [UInt8(payload.count >> 16 & 0xFF), UInt8(payload.count >> 8 & 0xFF), UInt8(payload.count & 0xFF), type, flags]
            + [UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)]
            + payload
    }

    /// :method and :path as literals without indexing, :scheme http and :authority from the static table's names.
    static func requestBlock(_ method: String, _ path: String) -> [UInt8] {
        [0x02, UInt8(method.utf8.count)] + Array(method.utf8) + [0x86, 0x04, UInt8(path.utf8.count)]
            + Array(path.utf8) + [0x01, 4] + Array("test".utf8)
    }
}
