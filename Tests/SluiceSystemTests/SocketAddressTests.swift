import SluiceSystem
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Socket addresses of both families: literals, what is loopback or a wildcard, text forms.
@Suite struct SocketAddressTests {
    @Test(arguments: [
        // literal, family, host text, loopback, wildcard
        ("127.0.0.1", AF_INET, "127.0.0.1", true, false), ("127.8.9.10", AF_INET, "127.8.9.10", true, false),
        ("10.1.2.3", AF_INET, "10.1.2.3", false, false), ("0.0.0.0", AF_INET, "0.0.0.0", false, true),
        ("::1", AF_INET6, "::1", true, false), ("::", AF_INET6, "::", false, true),
        ("fd00::2", AF_INET6, "fd00::2", false, false),
        // An IPv4 client of a dual-stack listener: shown, and judged, as IPv4.
        ("::ffff:127.0.0.1", AF_INET6, "127.0.0.1", true, false),
        ("::ffff:10.0.0.1", AF_INET6, "10.0.0.1", false, false),
    ])
    func literals(text: String, family: Int32, host: String, isLoopback: Bool, isUnspecified: Bool) throws {
        let address = try #require(SocketAddress.literal(text))
        #expect(address.family == family)
        #expect(address.host == host)
        #expect(address.isLoopback == isLoopback)
        #expect(address.isUnspecified == isUnspecified)
    }

    @Test func namesAreNotLiterals() {
        #expect(SocketAddress.literal("localhost") == nil)
        #expect(SocketAddress.literal("[::1]") == nil)
        #expect(SocketAddress.literal("") == nil)
    }

    @Test func resolvingKeepsThePortAndRefusesBadOnes() throws {
        let addresses = try SocketAddress.resolve(host: "::1", port: 9098, passive: false)
        #expect(addresses.map(\.port) == [9098])
        #expect(addresses.map(\.host) == ["::1"])
        #expect(throws: SystemCallError.self) { try SocketAddress.resolve(host: "::1", port: 65536, passive: false) }
        #expect(throws: SystemCallError.self) {
            try SocketAddress.resolve(host: "no-such-host.invalid", port: 1, passive: false)
        }
    }

    /// The local address of the route to a loopback address is loopback, of the same family.
    @Test func theRouteToLoopbackLeavesFromLoopback() throws {
        let target = try #require(SocketAddress.resolve(host: "127.0.0.1", port: 9, passive: false).first)
        let local = try SocketAddress.route(toward: target)
        #expect(local.isLoopback && local.family == AF_INET, "\(local.host)")
    }

    /// A listener on `0.0.0.0` is IPv4, one on `::` IPv6 with IPV6_V6ONLY off.
    @Test func listenersBindTheFamilyOfTheirAddress() throws {
        for (host, family) in [("0.0.0.0", AF_INET), ("::", AF_INET6)] {
            let (fd, port) = try ListeningSocket.open(host: host, port: 0, backlog: 1, nonBlocking: true)
            defer { close(fd) }
            let local = try SocketAddress.local(of: fd)
            #expect(local.family == family && local.port == port && port > 0)
            if family == AF_INET6 {
                var only: Int32 = 1
                var length = socklen_t(MemoryLayout<Int32>.size)
                #expect(getsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &only, &length) == 0)
                #expect(only == 0)
            }
        }
    }
}
