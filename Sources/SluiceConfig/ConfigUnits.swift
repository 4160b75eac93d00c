/// Parsing and formatting of byte sizes and durations with unit suffixes.
///
/// Byte suffixes are binary and case-insensitive, as in Spark: `b`; `k`, `kb`, `kib` (1024);
/// `m`, `mb`, `mib`; `g`, `gb`, `gib`; `t`, `tb`, `tib`. Duration suffixes: `ms`, `s`, `m` or `min`, `h`.
/// A bare number is in the base unit (bytes, milliseconds). Whitespace between number and suffix is allowed.
public enum ConfigUnits {
    static let byteSuffixes: [(names: [String], factor: Int)] = [
        (["b", ""], 1),
        (["k", "kb", "kib"], 1 << 10),
        (["m", "mb", "mib"], 1 << 20),
        (["g", "gb", "gib"], 1 << 30),
        (["t", "tb", "tib"], 1 << 40),
    ]

    static let durationSuffixes: [(names: [String], factor: Int)] = [
        (["ms", ""], 1),
        (["s"], 1000),
        (["m", "min"], 60_000),
        (["h"], 3_600_000),
    ]

    /// Parses a byte size such as `64k`, `8MiB`, `2g` or `4096`; nil when malformed or overflowing.
    public static func parseBytes(_ text: String) -> Int? {
        parse(text, suffixes: byteSuffixes)
    }

    /// Parses a duration such as `500ms`, `30s`, `5m` or `250` (ms) into milliseconds; nil when malformed.
    public static func parseMilliseconds(_ text: String) -> Int? {
        parse(text, suffixes: durationSuffixes)
    }

    /// Formats bytes with the largest binary suffix that divides exactly (`64MiB`, `1536KiB`, `100B`).
    public static func formatBytes(_ bytes: Int) -> String {
        let units: [(String, Int)] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        for (name, factor) in units where bytes != 0 && bytes % factor == 0 {
            return "\(bytes / factor)\(name)"
        }
        return "\(bytes)B"
    }

    /// Formats milliseconds with the largest suffix that divides exactly (`30s`, `5m`, `1h`, `250ms`).
    public static func formatMilliseconds(_ milliseconds: Int) -> String {
        let units: [(String, Int)] = [("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        for (name, factor) in units where milliseconds != 0 && milliseconds % factor == 0 {
            return "\(milliseconds / factor)\(name)"
        }
        return "\(milliseconds)ms"
    }

    private static func parse(_ text: String, suffixes: [(names: [String], factor: Int)]) -> Int? {
        let digits = text.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let suffix = text[digits.endIndex...].drop(while: { $0 == " " }).lowercased()
        guard let factor = suffixes.first(where: { $0.names.contains(suffix) })?.factor else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow ? nil : product
    }
}
