import SluiceTestKit

/// Seeded mutations of corpus entries: bit flips, interesting bytes, inserted, deleted and repeated ranges,
/// truncation, splices of two entries, length fields set to 0, max or off by one, protocol tokens, random bytes.
/// The same seed gives the same inputs.
struct FuzzMutator {
    /// Mutants are cut to this length, so one input stays cheap.
    static let maxInputBytes = 16 << 10

    /// One way to change an input.
    enum Strategy: CaseIterable {
        case flipBit, setByte, insertBytes, deleteBytes, truncate, repeatRange, splice, lengthField, token,
            randomBytes
    }

    /// Tokens of the text protocols, inserted or written over bytes.
    static let tokens = [
        "\r\n", "\r\n\r\n", " ", ":", "\n", "\r", "/", "?", "HTTP/1.1", "HTTP/1.0", "Host: h\r\n",
        "Content-Length: 7\r\n", "Content-Length: 99999999999\r\n", "Transfer-Encoding: chunked\r\n",
        "Expect: 100-continue\r\n", "Connection: close\r\n", "Upgrade: h2c\r\n", "=", "-", "_",
    ].map { Array($0.utf8) }

    private var random: SeededGenerator

    init(seed: UInt64) { random = SeededGenerator(seed: seed) }

    /// A random index below `count` (which must be positive).
    mutating func below(_ count: Int) -> Int { Int(random.next() % UInt64(count)) }

    /// `input` after one to four mutations; `corpus` gives the splice partners.
    mutating func mutate(_ input: [UInt8], corpus: [[UInt8]]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(4) {
            apply(Strategy.allCases[below(Strategy.allCases.count)], to: &bytes, corpus: corpus)
        }
        if bytes.count > Self.maxInputBytes { bytes.removeLast(bytes.count - Self.maxInputBytes) }
        return bytes
    }

    private mutating func apply(_ strategy: Strategy, to bytes: inout [UInt8], corpus: [[UInt8]]) {
        guard !bytes.isEmpty || [.insertBytes, .splice, .token, .randomBytes].contains(strategy) else {
            bytes = randomBytes(1 + below(16))
            return
        }
        switch strategy {
        case .flipBit:
            bytes[below(bytes.count)] ^= 1 << UInt8(below(8))
        case .setByte:
            let interesting: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, UInt8(truncatingIfNeeded: random.next())]
            bytes[below(bytes.count)] = interesting[below(interesting.count)]
        case .insertBytes:
            let count = 1 + below(8)
            let inserted = below(2) == 0 ? randomBytes(count) : Array(repeating: UInt8(below(256)), count: count)
            bytes.insert(contentsOf: inserted, at: below(bytes.count + 1))
        case .deleteBytes:
            let start = below(bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + 1 + below(16)))
        case .truncate:
            bytes.removeLast(1 + below(bytes.count))
        case .repeatRange:
            let start = below(bytes.count)
            let range = Array(bytes[start..<min(bytes.count, start + 1 + below(64))])
            bytes.insert(contentsOf: range, at: below(bytes.count + 1))
        case .splice:
            let other = corpus.isEmpty ? randomBytes(8) : corpus[below(corpus.count)]
            bytes = Array(bytes.prefix(below(bytes.count + 1))) + other.suffix(below(other.count + 1))
        case .lengthField:
            setLengthField(&bytes)
        case .token:
            let token = Self.tokens[below(Self.tokens.count)]
            let at = below(bytes.count + 1)
            if below(2) == 0 || at + token.count > bytes.count {
                bytes.insert(contentsOf: token, at: at)
            } else {
                bytes.replaceSubrange(at..<(at + token.count), with: token)
            }
        case .randomBytes:
            bytes = randomBytes(below(65))
        }
    }

    /// Reads a big-endian field of 1, 2, 4 or 8 bytes at a random offset and writes back 0, 1, one less, one more,
    /// the maximum, half the maximum, or the number of bytes after the field (exact or one more).
    private mutating func setLengthField(_ bytes: inout [UInt8]) {
        let width = [1, 2, 4, 8][below(4)]
        guard bytes.count >= width else { return }
        let offset = below(bytes.count - width + 1)
        let old = bytes[offset..<(offset + width)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let max: UInt64 = width == 8 ? .max : (1 << UInt64(width * 8)) - 1
        let after = UInt64(bytes.count - offset - width)
        let choices: [UInt64] = [0, 1, old &- 1, old &+ 1, max, max >> 1, after, after + 1]
        var value = choices[below(choices.count)] & max
        for index in (offset..<(offset + width)).reversed() {
            bytes[index] = UInt8(truncatingIfNeeded: value)
            value >>= 8
        }
    }

    private mutating func randomBytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }
}
