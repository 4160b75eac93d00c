import SluiceCore

/// What one input did to a fuzz target.
enum FuzzOutcome: Equatable, Sendable {
    /// Decoded, and every property the target checks held.
    case accepted
    /// Refused with an error the decoder is allowed to throw.
    case rejected
    /// A property failed (wrong error status, unstable re-encoding, a limit not enforced, ...): what went wrong.
    case violation(String)
}

/// One decoder under fuzz: a check of arbitrary bytes that must never crash or hang, plus valid inputs to mutate.
///
/// The check is made per run (`makeCheck`) so a target may keep state across inputs (a codec context), but the
/// outcome of one input depends on its bytes alone: a failing input replays by itself.
struct FuzzTarget: Sendable {
    /// A short name, also the directory of the target's checked-in corpus (`Corpus/<name>/`).
    let name: String
    /// The decoder types and functions this target drives (checked against the sources by the coverage tests).
    let covers: [String]
    /// Valid encodings made by the encoders: each is accepted as is and passes `checkSeed`.
    let seeds: @Sendable () -> [[UInt8]]
    /// Extra property of an unmutated seed (for codecs: it re-encodes to exactly its bytes); nil when it holds.
    let checkSeed: @Sendable (ArraySlice<UInt8>) -> String?
    /// Makes the check for one run.
    let makeCheck: @Sendable () -> (ArraySlice<UInt8>) -> FuzzOutcome

    init(
        name: String, covers: [String], seeds: @escaping @Sendable () -> [[UInt8]],
        checkSeed: @escaping @Sendable (ArraySlice<UInt8>) -> String? = { _ in nil },
        makeCheck: @escaping @Sendable () -> (ArraySlice<UInt8>) -> FuzzOutcome
    ) {
        self.name = name
        self.covers = covers
        self.seeds = seeds
        self.checkSeed = checkSeed
        self.makeCheck = makeCheck
    }

    /// Every target, in the order `DecoderFuzzTests` runs them.
    static let all = MessageTargets.all + BatchTargets.all + HTTPTargets.all

    /// A decoder paired with its encoder: `reencode` decodes bytes and encodes the value again.
    ///
    /// Properties: errors carry a status in `allowed`; an accepted input re-encodes to a canonical form that is a
    /// fixed point (it decodes, and re-encodes to the same bytes); a seed re-encodes to exactly its own bytes.
    static func codec(
        _ name: String, covers: [String], allowed: Set<StatusCode> = [.malformed, .invalidArgument],
        seeds: @escaping @Sendable () -> [[UInt8]],
        reencode: @escaping @Sendable (ArraySlice<UInt8>) throws(ProtocolError) -> [UInt8]
    ) -> FuzzTarget {
        FuzzTarget(
            name: name, covers: covers, seeds: seeds,
            checkSeed: { seed in
                switch Result(catching: { () throws(ProtocolError) -> [UInt8] in try reencode(seed) }) {
                case .failure(let error): return "seed does not decode: \(error)"
                case .success(let bytes):
                    return bytes == Array(seed) ? nil : "seed re-encodes differently: \(FuzzHex.dump(bytes[...]))"
                }
            },
            makeCheck: { { input in checkFixedPoint(input, allowed: allowed, reencode: reencode) } })
    }

    /// The codec property of one input (see `codec`).
    static func checkFixedPoint(
        _ input: ArraySlice<UInt8>, allowed: Set<StatusCode>,
        reencode: (ArraySlice<UInt8>) throws(ProtocolError) -> [UInt8]
    ) -> FuzzOutcome {
        switch Result(catching: { () throws(ProtocolError) -> [UInt8] in try reencode(input) }) {
        case .failure(let error):
            return allowed.contains(error.status) ? .rejected : .violation("threw \(error), allowed: \(allowed)")
        case .success(let canonical):
            switch Result(catching: { () throws(ProtocolError) -> [UInt8] in try reencode(canonical[...]) }) {
            case .failure(let error):
                return .violation("its re-encoding does not decode (\(error)): \(FuzzHex.dump(canonical[...]))")
            case .success(let again):
                guard again == canonical else {
                    return .violation(
                        "re-encoding is not a fixed point: \(FuzzHex.dump(canonical[...])) then \(FuzzHex.dump(again[...]))"
                    )
                }
                return .accepted
            }
        }
    }
}

/// Hexadecimal dumps of inputs: `xxd -r -p` turns one back into a corpus file.
enum FuzzHex {
    /// Lower-case hex, two digits a byte, no separators.
    static func dump(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// FNV-1a, 64 bits: seeds drawn from an input's own bytes, so one input always behaves the same.
enum FNV {
    static func hash<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }
}
