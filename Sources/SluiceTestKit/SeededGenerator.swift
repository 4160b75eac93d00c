import Foundation

/// SplitMix64: a small generator whose sequence depends on the seed alone, so every run sees the same values
/// and a failing seed replays.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator that starts from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` random (incompressible) bytes: the generator's words in little-endian order, cut at `count`.
    public static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = generator.next().littleEndian
            for _ in 0..<min(8, count - index) {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return bytes
    }

    /// The seed in environment variable `name` (decimal, or hexadecimal after `0x`); nil when unset or empty.
    /// - Throws: `TestKitError` when the variable is set to something else.
    public static func seed(fromEnvironment name: String) throws -> UInt64? {
        guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else { return nil }
        let parsed = text.lowercased().hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        guard let parsed else { throw TestKitError("\(name) must be an unsigned integer, got \(text)") }
        return parsed
    }
}
