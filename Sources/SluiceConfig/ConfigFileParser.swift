/// Parses config-file text: one `key = value` or `key value` per line.
///
/// `#` starts a comment at the start of a line or after whitespace; blank lines are ignored; keys and
/// values are trimmed; values are taken literally (no quoting). A key given twice is an error.
public enum ConfigFileParser {
    /// One `key = value` line.
    public struct Line: Sendable, Equatable {
        /// The key as written.
        public let key: String
        /// The trimmed value (possibly empty).
        public let value: String
        /// 1-based line number.
        public let number: Int
    }

    /// Splits `text` into key-value lines, failing on malformed lines and duplicate keys.
    public static func parse(_ text: String, path: String? = nil) throws(ConfigError) -> [Line] {
        var lines: [Line] = []
        var firstLineOfKey: [String: Int] = [:]
        let rawLines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        for (index, raw) in rawLines.enumerated() {
            let number = index + 1
            let content = trim(stripComment(raw))
            if content.isEmpty { continue }
            let keyEnd = content.firstIndex(where: { $0 == "=" || $0.isWhitespace }) ?? content.endIndex
            let key = String(content[..<keyEnd])
            var rest = trim(content[keyEnd...])
            if rest.hasPrefix("=") { rest = trim(rest.dropFirst()) }
            let source = ConfigSource.file(path: path, line: number)
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ".") }) else {
                throw ConfigError(
                    .syntax, key: nil, source: source,
                    "\(source): expected 'key = value', got '\(content)'")
            }
            if let first = firstLineOfKey[key] {
                throw ConfigError(
                    .syntax, key: key, source: source,
                    "\(source): \(key) is already set on line \(first)")
            }
            firstLineOfKey[key] = number
            lines.append(Line(key: key, value: String(rest), number: number))
        }
        return lines
    }

    private static func stripComment(_ line: Substring) -> Substring {
        var previous: Character = " "
        for index in line.indices {
            if line[index] == "#", previous.isWhitespace { return line[..<index] }
            previous = line[index]
        }
        return line
    }

    static func trim(_ text: Substring) -> Substring {
        let start = text.drop(while: \.isWhitespace)
        var end = start.endIndex
        while end > start.startIndex, start[start.index(before: end)].isWhitespace {
            end = start.index(before: end)
        }
        return start[..<end]
    }
}
