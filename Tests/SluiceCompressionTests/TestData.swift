// Deterministic test inputs: seeded generators, identical on every run.

import SluiceTestKit

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
        SeededGenerator.bytes(count: byteCount, seed: seed)
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
