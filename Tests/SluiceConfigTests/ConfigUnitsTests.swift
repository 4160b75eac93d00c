import Testing

@testable import SluiceConfig

@Suite struct ConfigUnitsTests {
    @Test(arguments: [
        ("4096", 4096), ("64k", 64 << 10), ("64KiB", 64 << 10), ("8MiB", 8 << 20), ("8mb", 8 << 20),
        ("2g", 2 << 30), ("2 GiB", 2 << 30), ("1t", 1 << 40), ("100b", 100),
    ])
    func byteSizesParse(text: String, bytes: Int) {
        #expect(ConfigUnits.parseBytes(text) == bytes)
    }

    @Test(arguments: [
        ("500ms", 500), ("30s", 30_000), ("5m", 300_000), ("5min", 300_000), ("1h", 3_600_000),
        ("250", 250),
    ])
    func durationsParse(text: String, milliseconds: Int) {
        #expect(ConfigUnits.parseMilliseconds(text) == milliseconds)
    }

    @Test(arguments: ["", "k", "1.5g", "-1k", "12x", "64 k b", "99999999999999999999", "9223372036854775807k"])
    func malformedByteSizesAreRejected(text: String) {
        #expect(ConfigUnits.parseBytes(text) == nil)
    }

    @Test func malformedDurationsAreRejected() {
        for text in ["", "s", "5 sec", "1d", "3.5s", "-5s"] {
            #expect(ConfigUnits.parseMilliseconds(text) == nil, "\(text)")
        }
    }

    @Test func formattingUsesTheLargestExactUnit() {
        #expect(ConfigUnits.formatBytes(64 << 20) == "64MiB")
        #expect(ConfigUnits.formatBytes(1536 << 10) == "1536KiB")
        #expect(ConfigUnits.formatBytes(100) == "100B")
        #expect(ConfigUnits.formatBytes(0) == "0B")
        #expect(ConfigUnits.formatMilliseconds(300_000) == "5m")
        #expect(ConfigUnits.formatMilliseconds(1500) == "1500ms")
        #expect(ConfigUnits.formatMilliseconds(0) == "0ms")
    }

    @Test func hostPortParsesNamesAndBracketedIPv6() {
        #expect(HostPort(parsing: "127.0.0.1:9097") == HostPort(host: "127.0.0.1", port: 9097))
        #expect(HostPort(parsing: "[::1]:9097") == HostPort(host: "::1", port: 9097))
        #expect(HostPort(parsing: "[::1]:9097")?.description == "[::1]:9097")
        for bad in ["localhost", "::1:9097", "host:0", "host:65536", ":9097", "host:port", "[::1]9097"] {
            #expect(HostPort(parsing: bad) == nil, "\(bad)")
        }
    }
}
