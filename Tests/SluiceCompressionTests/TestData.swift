// Deterministic test inputs: seeded generators, identical on every run.

/// SplitMix64: a tiny seeded generator, so every run sees the same bytes.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum TestData {
    private static let words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
        "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
        "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "spark", "shuffle", "partition", "map",
    ].map { Array($0.utf8) }

    /// Shuffle-like serialized records of exactly `byteCount` bytes: `u32 keyLength | key | u32 valueLength |
    /// value`, keys from a small key space and text values from a small vocabulary (compressible, like
    /// real shuffle output).
    static func shuffleRecords(byteCount: Int, seed: UInt64 = 42) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(byteCount + 256)
        while bytes.count < byteCount {
            let key = Array("user-\(Int.random(in: 0..<5000, using: &generator))".utf8)
            var value: [UInt8] = []
            for index in 0..<Int.random(in: 3...12, using: &generator) {
                if index > 0 { value.append(0x20) }
                value += words[Int.random(in: 0..<words.count, using: &generator)]
            }
            value += Array(",\(Int.random(in: 0..<1000, using: &generator))".utf8)
            appendLengthPrefixed(key, to: &bytes)
            appendLengthPrefixed(value, to: &bytes)
        }
        return Array(bytes.prefix(byteCount))
    }

    /// `byteCount` uniformly random bytes (incompressible).
    static func noise(byteCount: Int, seed: UInt64 = 7) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        return (0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    private static func appendLengthPrefixed(_ field: [UInt8], to bytes: inout [UInt8]) {
        let length = UInt32(field.count)
        bytes += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        bytes += field
    }
}

/// 4 MiB of shuffle-like records, built once per test process.
let fourMiBOfRecords = TestData.shuffleRecords(byteCount: 4 << 20)

/// Raw input of `byteCount` bytes for the size-parameterised tests.
func records(_ byteCount: Int) -> [UInt8] {
    byteCount == fourMiBOfRecords.count ? fourMiBOfRecords : TestData.shuffleRecords(byteCount: byteCount)
}
