import SluiceHTTP
import SluiceTestKit
import Testing

/// Seeded garbage and mutated requests, HTTP/1.1 and HTTP/2: every connection ends (no stall), the server keeps
/// answering. SLUICE_HTTP_FUZZ_SEED replays a failing seed.
@Suite struct FuzzTests {
    @Test func mutatedInputNeverStallsOrStopsTheServer() throws {
        let seed = try SeededGenerator.seed(fromEnvironment: "SLUICE_HTTP_FUZZ_SEED") ?? 0x5EED_4777
        var random = SeededGenerator(seed: seed)
        let (server, port) = try startServer(
            testConfig(maxHeaderBytes: 2_048, maxBodyBytes: 4_096, requestTimeoutMs: 1_000))
        defer { server.stop() }
        let request = Array(
            "POST /echo?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello".utf8)
        let preface =
            Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
            + HTTP2Frames.frame(type: 4, flags: 0, stream: 0, payload: [])
        let headers = HTTP2Frames.frame(type: 1, flags: 0x5, stream: 1, payload: HTTP2Frames.requestBlock("/hello"))
        for round in 0..<120 {
            var input: [UInt8]
            switch round % 4 {
            case 0: input = SeededGenerator.bytes(count: Int.random(in: 1...3_000, using: &random), seed: random.next())
            case 1: input = request + request
            case 2:
                input =
                    preface + SeededGenerator.bytes(count: Int.random(in: 1...600, using: &random), seed: random.next())
            default: input = preface + headers + headers
            }
            if round % 4 != 0 {
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let index = Int.random(in: 0..<input.count, using: &random)
                    if round % 4 == 2 && index < 24 { continue }  // keep the preface: fuzz the frames
                    input[index] = UInt8.random(in: 0...255, using: &random)
                }
            }
            let socket = try RawSocket(port: port)
            socket.send(input)
            socket.shutdownWrite()
            #expect(socket.seesClose(timeoutMs: 10_000), "seed \(seed) round \(round): connection not closed")
        }
        let healthy = try RawSocket(port: port)
        healthy.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(healthy.readResponse().hasSuffix("hello\n"), "seed \(seed)")
        try waitUntil("fuzzed connections to be gone (seed \(seed))", timeoutMs: 10_000) { server.connectionCount <= 1 }
    }
}
