/// The text form of a network endpoint: `host:port`, with brackets around IPv6 literals (`[fd00::2]:9098`).
/// Hosts are carried without brackets everywhere else (configuration values, wire messages, socket calls).
public enum EndpointText {
    /// `host:port`, or `[host]:port` when the host is an IPv6 literal (contains a colon).
    public static func format(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Splits `host:port` or `[ipv6]:port` into the host (brackets removed) and the port (0...65535); nil when
    /// the text is neither, the host is empty or holds a bracket, or an unbracketed host contains a colon (`::1:80` is
    /// ambiguous).
    public static func parse(_ text: Substring) -> (host: String, port: Int)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, !host.contains("["), !host.contains("]"), !portText.isEmpty, portText.count <= 5,
            portText.allSatisfy({ $0 >= "0" && $0 <= "9" }),
            let port = Int(portText), port <= 65535
        else { return nil }
        return (String(host), port)
    }

    /// `parse` of a whole string.
    public static func parse(_ text: String) -> (host: String, port: Int)? { parse(text[...]) }
}
