import ArgumentParser

/// A byte count given on the command line: a number with an optional binary suffix k, m, g or t
/// (also kb/kib, ...), case-insensitive: `64k` = 65,536, `2g` = 2 GiB.
struct ByteSize: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        var text = argument.lowercased()
        for unitSuffix in ["ib", "b"] where text.hasSuffix(unitSuffix) {
            text.removeLast(unitSuffix.count)
            break
        }
        var shift = 0
        if let last = text.last, let power = ["k": 10, "m": 20, "g": 30, "t": 40][String(last)] {
            shift = power
            text.removeLast()
        }
        guard !text.isEmpty, text.allSatisfy(\.isASCII), let number = Int(text), number >= 0 else { return nil }
        let (scaled, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { return nil }
        bytes = scaled
    }

    var description: String {
        for (suffix, shift) in [("g", 30), ("m", 20), ("k", 10)] where bytes >= 1 << shift && bytes % (1 << shift) == 0
        {
            return "\(bytes >> shift)\(suffix)"
        }
        return "\(bytes)"
    }

    var defaultValueDescription: String { description }
}
