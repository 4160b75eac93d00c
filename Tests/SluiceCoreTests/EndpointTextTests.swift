import SluiceCore
import Testing

/// `host:port` text with IPv6 literals in brackets, both ways.
@Suite struct EndpointTextTests {
    @Test(arguments: [
        ("127.0.0.1", 9097, "127.0.0.1:9097"), ("sluice-master.ns.svc", 80, "sluice-master.ns.svc:80"),
        ("::1", 9098, "[::1]:9098"), ("fd00::2", 0, "[fd00::2]:0"), ("fe80::1%eth0", 7, "[fe80::1%eth0]:7"),
    ])
    func formatsAndParsesBack(host: String, port: Int, text: String) {
        #expect(EndpointText.format(host: host, port: port) == text)
        let parsed = EndpointText.parse(text)
        #expect(parsed?.host == host && parsed?.port == port, "\(text)")
    }

    @Test(arguments: [
        "", "host", ":80", "[]:80", "::1:80", "[::1]80", "[::1:80", "host:", "host:65536", "host:-1",
        "host:+80", "host:8o",
    ])
    func rejectsWhatIsNotHostAndPort(text: String) {
        #expect(EndpointText.parse(text) == nil, "\(text)")
    }

    @Test func workerAddressesPrintTheirEndpointBracketed() {
        #expect(WorkerAddress(workerId: "w", host: "fd00::2", port: 9098).endpoint == "[fd00::2]:9098")
        #expect(WorkerAddress(workerId: "w", host: "10.0.0.2", port: 9098).endpoint == "10.0.0.2:9098")
    }
}
