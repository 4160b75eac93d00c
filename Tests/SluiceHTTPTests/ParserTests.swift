import Testing

@testable import SluiceHTTP

@Suite struct ParserTests {
    private func parse(_ text: String, maxHeaderBytes: Int = 256, maxBodyBytes: Int = 64) -> HTTP1Parser.Outcome {
        var parser = HTTP1Parser(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        return parser.next(Array(text.utf8)[...])
    }

    private func status(_ text: String) -> Int? {
        if case .refused(let refusal) = parse(text) { return refusal.status }
        return nil
    }

    @Test(arguments: [
        ("HELLO\r\n\r\n", 400),
        ("GET /a HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400),
        ("GET a HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET /a HTTP/9.9\r\nHost: x\r\n\r\n", 505),
        ("GET /a HTTP/1.1\r\n\r\n", 400),
        ("GET /a HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", 400),
        ("GET /a HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
        ("GET /a HTTP/1.1\nHost: x\r\n\r\n", 400),
        ("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n", 413),
        ("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        ("GET /a HTTP/1.1\r\nHost: x\r\nX: \(String(repeating: "y", count: 300))\r\n\r\n", 431),
        ("GET /a HTTP/1.1\r\nHost: x\r\nX: \(String(repeating: "y", count: 300))", 431),
        // As when the head arrives in pieces: a method over 32 bytes, and a bad method before a size over the limit.
        ("\(String(repeating: "A", count: 33)) /a HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("G(T /\(String(repeating: "a", count: 300)) HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ])
    func malformedRequestsAreRefused(input: String, expected: Int) {
        #expect(status(input) == expected)
    }

    @Test func requestWithBodyAndWhatFollows() {
        let text = "POST /echo?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET"
        guard case .request(let head, let body, let consumed) = parse(text) else {
            Issue.record("no request parsed")
            return
        }
        #expect(head.method == "POST")
        #expect(head.path == "/echo")
        #expect(head.query == "x=1")
        #expect(head.keepAlive)
        #expect(body == Array("abc".utf8))
        #expect(consumed == text.utf8.count - 3)
    }

    @Test func incompleteInputAsksForMore() {
        var parser = HTTP1Parser(maxHeaderBytes: 256, maxBodyBytes: 64)
        let text = Array("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nab".utf8)
        #expect(parser.next(text[0..<10]) == .needMore(head: nil))
        #expect(parser.inProgress)
        guard case .needMore(let head?) = parser.next(text[...]) else {
            Issue.record("the head should be complete")
            return
        }
        #expect(head.contentLength == 3)
    }

    @Test func upgradeAndConnectionTokens() {
        let upgrade =
            "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
            + "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"
        guard case .request(let head, _, _) = parse(upgrade, maxHeaderBytes: 1024) else {
            Issue.record("no request parsed")
            return
        }
        #expect(head.upgradeSettings == "AAMAAABkAAQCAAAAAAIAAAAA")
        #expect(Base64URL.decode("AAMAAABkAAQCAAAAAAIAAAAA")?.count == 18)
        guard case .request(let closing, _, _) = parse("GET / HTTP/1.0\r\n\r\n") else {
            Issue.record("no request parsed")
            return
        }
        #expect(!closing.keepAlive)
    }
}
