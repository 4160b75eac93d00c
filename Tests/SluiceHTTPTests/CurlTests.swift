import SluiceHTTP
import SluiceTestKit
import Testing

/// curl over each protocol the server speaks, checking status, body and the protocol curl ended up using.
@Suite struct CurlTests {
    static let modes: [(option: String, version: String)] = [
        ("--http1.1", "1.1"), ("--http2-prior-knowledge", "2"), ("--http2", "2"),
    ]

    @Test(arguments: modes)
    func routesAnswerOverEachProtocol(option: String, version: String) throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let hello = try curl([option], port: port, path: "/hello")
        #expect(hello.status == 200)
        #expect(hello.version == version)
        #expect(hello.text == "hello\n")
        let item = try curl([option], port: port, path: "/items/42?verbose=1")
        #expect(item.status == 200)
        #expect(item.text == "item 42\n")
        let missing = try curl([option], port: port, path: "/nowhere")
        #expect(missing.status == 404)
        let wrongMethod = try curl([option, "-X", "DELETE"], port: port, path: "/hello")
        #expect(wrongMethod.status == 405)
    }

    @Test(arguments: modes)
    func bodiesGoBothWays(option: String, version: String) throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let payload = String(repeating: "sluice ", count: 3_000)  // 21 KB: over one read, and 100-continue in 1.1
        let echo = try curl([option, "--data-binary", payload], port: port, path: "/echo")
        #expect(echo.status == 200)
        #expect(echo.version == version)
        #expect(echo.text == payload)
        let big = try curl([option], port: port, path: "/big")
        #expect(big.status == 200)
        #expect(big.body.count == bigBodyBytes)
        #expect(big.body == (0..<bigBodyBytes).map { UInt8($0 % 251) })
    }

    @Test(arguments: modes)
    func bodyOverTheLimitIsRefused(option: String, version: String) throws {
        let (server, port) = try startServer(testConfig(maxBodyBytes: 1_000))
        defer { server.stop() }
        let refused = try curl(
            [option, "--data-binary", String(repeating: "x", count: 5_000)], port: port, path: "/echo")
        #expect(refused.status == 413)
        let after = try curl([option], port: port, path: "/hello")
        #expect(after.status == 200)
    }
}
