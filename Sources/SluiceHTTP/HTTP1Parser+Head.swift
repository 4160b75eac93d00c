extension HTTP1Parser {
    /// Parses a head (request line and header lines, CRLF-separated, without the blank line).
    static func parseHead(_ bytes: ArraySlice<UInt8>, maxBodyBytes: Int) -> Result<HTTP1Head, HTTPRefusal> {
        let bad = { (reason: String) in Result<HTTP1Head, HTTPRefusal>.failure(HTTPRefusal(status: 400, reason: reason))
        }
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == 13 {
                guard index + 1 < bytes.endIndex, bytes[index + 1] == 10 else { return bad("bare CR") }
                lines.append(bytes[lineStart..<index])
                index += 2
                lineStart = index
                continue
            }
            if byte == 10 { return bad("bare LF") }
            index += 1
        }
        lines.append(bytes[lineStart..<bytes.endIndex])
        guard let requestLine = lines.first else { return bad("empty request") }
        let parts = requestLine.split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else {
            return bad("malformed request line")
        }
        let target = parts[1]
        guard target.first == UInt8(ascii: "/"), target.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            return bad("malformed request target")
        }
        let version: String
        switch String(decoding: parts[2], as: UTF8.self) {
        case "HTTP/1.1": version = "1.1"
        case "HTTP/1.0": version = "1.0"
        case let other where other.hasPrefix("HTTP/") && other.count == 8:
            return .failure(HTTPRefusal(status: 505, reason: "unsupported HTTP version"))
        default: return bad("malformed HTTP version")
        }
        var headers: [HTTPHeader] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return bad("header line without colon") }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else { return bad("malformed header name") }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 32 || first == 9 { value = value.dropFirst() }
            while let last = value.last, last == 32 || last == 9 { value = value.dropLast() }
            guard value.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else { return bad("control byte in header") }
            headers.append(HTTPHeader(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        let targetText = String(decoding: target, as: UTF8.self)
        let path = targetText.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var head = HTTP1Head(
            method: String(decoding: parts[0], as: UTF8.self), path: String(path[0]),
            query: path.count > 1 ? String(path[1]) : "", version: version, headers: headers,
            contentLength: 0, keepAlive: version == "1.1", expectsContinue: false,
            upgradeSettings: nil)
        if let refusal = applyHeaderSemantics(&head, maxBodyBytes: maxBodyBytes) { return .failure(refusal) }
        return .success(head)
    }

    /// Content-Length, Transfer-Encoding, Host, Connection, Expect and Upgrade.
    private static func applyHeaderSemantics(_ head: inout HTTP1Head, maxBodyBytes: Int) -> HTTPRefusal? {
        func values(_ name: String) -> [String] {
            head.headers.filter { $0.name.lowercased() == name }.map(\.value)
        }
        func tokens(_ name: String) -> Set<String> {
            Set(
                values(name).flatMap { $0.split(separator: ",") }
                    .map { $0.trimmingSpaces().lowercased() })
        }
        if !values("transfer-encoding").isEmpty {
            return HTTPRefusal(status: 501, reason: "transfer-encoding (chunked bodies) not supported")
        }
        let lengths = Set(values("content-length"))
        if lengths.count > 1 { return HTTPRefusal(status: 400, reason: "conflicting content-length") }
        if let text = lengths.first {
            guard !text.isEmpty, text.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let length = Int(text)
            else {
                return HTTPRefusal(status: 400, reason: "malformed content-length")
            }
            guard length <= maxBodyBytes else { return HTTPRefusal(status: 413, reason: "body too large") }
            head.contentLength = length
        }
        let hosts = values("host")
        if hosts.count > 1 || (head.version == "1.1" && hosts.isEmpty) {
            return HTTPRefusal(status: 400, reason: "missing or repeated host")
        }
        let connection = tokens("connection")
        if connection.contains("close") { head.keepAlive = false }
        if connection.contains("keep-alive") { head.keepAlive = true }
        head.expectsContinue = values("expect").contains { $0.lowercased() == "100-continue" }
        let settings = values("http2-settings")
        if head.version == "1.1", tokens("upgrade").contains("h2c"), settings.count == 1,
            connection.contains("upgrade"), connection.contains("http2-settings")
        {
            head.upgradeSettings = settings[0]
        }
        return nil
    }

    /// RFC 9110 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
