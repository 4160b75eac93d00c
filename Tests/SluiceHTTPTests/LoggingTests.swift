import Logging
import SluiceHTTP
import SluiceTestKit
import Testing

/// Request logs: constant messages, the data in the agreed metadata keys.
@Suite struct LoggingTests {
    @Test(arguments: ["--http1.1", "--http2-prior-knowledge"])
    func servedAndRefusedRequestsAreLoggedWithMetadata(option: String) throws {
        let logs = CapturedLogs()
        var logger = Logger(label: "sluice.http.test", factory: { _ in logs.handler() })
        logger.logLevel = .debug
        let server = HTTPServer(config: testConfig(), router: testRouter(), logger: logger)
        let port = try server.start()
        defer { server.stop() }
        #expect(try curl([option], port: port, path: "/items/9").status == 200)
        try waitUntil("the request to be logged") { logs.all.contains { $0.message == "http request served" } }
        let served = logs.all.first { $0.message == "http request served" }?.metadata ?? [:]
        #expect(served["http.method"] == "GET")
        #expect(served["http.path"] == "/items/9")
        #expect(served["http.status"] == "200")
        #expect(served["peer.address"]?.hasPrefix("127.0.0.1:") == true)
        let garbage = try RawSocket(port: port)
        garbage.send("NOT HTTP\r\n\r\n")
        #expect(garbage.seesClose())
        try waitUntil("the refusal to be logged") { logs.all.contains { $0.message == "http request refused" } }
        let refused = logs.all.first { $0.message == "http request refused" }?.metadata ?? [:]
        #expect(refused["http.status"] == "400")
        #expect(refused["peer.address"]?.hasPrefix("127.0.0.1:") == true)
    }
}
