import SluiceConfig
import SluiceSystem
import Testing

@testable import SluiceWorker

/// The rules choosing the advertised host, with name resolution and routes stubbed (no sockets).
@Suite struct AdvertisedHostTests {
    /// One case: the keys set, what the master's name resolves to, the route's local address, and the outcome.
    struct Case: Sendable, CustomStringConvertible {
        var advertised = ""
        var listen = "0.0.0.0"
        var master = "10.0.0.9:9097"
        var masterResolvesTo: [String] = []
        var routeFrom = "10.0.0.5"
        /// The chosen host and reason, or nil for a refusal.
        var expected: (String, AdvertisedHost.Reason)?

        var description: String { "advertised '\(advertised)' listen \(listen) master \(master) route \(routeFrom)" }
    }

    static let cases: [Case] = [
        // Configured values are used as given...
        Case(advertised: "sluice-worker-0.sluice.svc", expected: ("sluice-worker-0.sluice.svc", .configured)),
        Case(advertised: "10.0.0.7", expected: ("10.0.0.7", .configured)),
        Case(advertised: "[fd00::7]", expected: ("fd00::7", .configured)),
        Case(advertised: "127.0.0.1", master: "127.0.0.1:9097", expected: ("127.0.0.1", .configured)),
        // ...but not loopback with a master elsewhere, nor a wildcard.
        Case(advertised: "127.0.0.1", expected: nil),
        Case(advertised: "::1", expected: nil),
        Case(advertised: "localhost", expected: nil),
        Case(advertised: "127.0.0.1", master: "master.example:9097", masterResolvesTo: ["10.0.0.9"], expected: nil),
        Case(advertised: "0.0.0.0", master: "127.0.0.1:9097", expected: nil),
        Case(advertised: "::", expected: nil),
        // Automatic: a specific listen address is what others reach.
        Case(listen: "10.0.0.6", expected: ("10.0.0.6", .listenAddress)),
        Case(listen: "127.0.0.1", master: "127.0.0.1:9097", expected: ("127.0.0.1", .listenAddress)),
        Case(listen: "127.0.0.1", expected: nil),
        // Automatic with a loopback master: loopback, whatever the route (tests, the demo).
        Case(master: "127.0.0.1:9097", routeFrom: "127.0.0.1", expected: ("127.0.0.1", .loopbackMaster)),
        Case(master: "[::1]:9097", routeFrom: "::1", expected: ("127.0.0.1", .loopbackMaster)),
        Case(
            master: "localhost:9097", masterResolvesTo: ["127.0.0.1", "::1"], routeFrom: "127.0.0.1",
            expected: ("127.0.0.1", .loopbackMaster)),
        // Automatic with a remote master: the route's local address (a pod IP), never loopback or a wildcard.
        Case(expected: ("10.0.0.5", .routeToMaster)),
        Case(master: "sluice-master:9097", masterResolvesTo: ["10.0.0.9"], expected: ("10.0.0.5", .routeToMaster)),
        Case(routeFrom: "127.0.0.1", expected: nil),
        Case(routeFrom: "0.0.0.0", expected: nil),
        Case(master: "sluice-master:9097", masterResolvesTo: [], expected: nil),
        // IPv6: a dual-stack or IPv6 listener may advertise the IPv6 route; 0.0.0.0 takes no IPv6 connections.
        Case(listen: "::", master: "[fd00::9]:9097", routeFrom: "fd00::5", expected: ("fd00::5", .routeToMaster)),
        Case(master: "[fd00::9]:9097", routeFrom: "fd00::5", expected: nil),
        Case(listen: "::", master: "10.0.0.9:9097", routeFrom: "10.0.0.5", expected: ("10.0.0.5", .routeToMaster)),
    ]

    @Test(arguments: cases)
    func chooses(_ example: Case) throws {
        let config = try WorkerConfig.load(overrides: [
            "worker.advertisedHost": example.advertised, "worker.host": example.listen,
            "worker.masterAddress": example.master,
        ])
        let network = AdvertisedHost.Network(
            resolve: { name in
                let found = example.masterResolvesTo.compactMap(SocketAddress.literal)
                guard !found.isEmpty else { throw SystemCallError(errno: 113, call: "getaddrinfo", cause: name) }
                return found
            },
            route: { _ in
                guard let local = SocketAddress.literal(example.routeFrom) else {
                    throw SystemCallError(errno: 101, call: "connect")
                }
                return local
            })
        switch Result(catching: { try AdvertisedHost.choose(for: config, network: network) }) {
        case .success(let choice):
            #expect(example.expected?.0 == choice.host, "\(example): chose \(choice)")
            #expect(example.expected?.1 == choice.reason, "\(example): chose \(choice)")
        case .failure(let error):
            #expect(example.expected == nil, "\(example): refused: \(error)")
            #expect("\(error)".contains("SLUICE_WORKER_ADVERTISED_HOST"), "\(error)")
        }
    }

    /// The default worker id is the advertised host and the bound port, bracketed for IPv6.
    @Test func theDefaultWorkerIdBracketsIPv6() throws {
        let config = try WorkerConfig.load()
        #expect(config.effectiveWorkerId(advertisedHost: "fd00::5", boundPort: 9098) == "[fd00::5]:9098")
        #expect(config.effectiveWorkerId(advertisedHost: "10.0.0.5", boundPort: 9098) == "10.0.0.5:9098")
    }
}
