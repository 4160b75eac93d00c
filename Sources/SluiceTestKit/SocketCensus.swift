#if canImport(Glibc)
    import Glibc
#endif

/// Counts the TCP connections this process holds open on a local port: for an in-process server, the server
/// side of every accepted connection whose descriptor is still open (a leaked connection thread keeps one).
/// Reads /proc/self/fd (descriptors that are sockets) and /proc/self/net/tcp (their ports and states).
public enum SocketCensus {
    /// The number of open, non-listening TCP sockets of this process whose local port is `localPort`.
    public static func openConnections(localPort: Int) -> Int {
        let inodes = socketInodes()
        var count = 0
        for line in readFile("/proc/self/net/tcp").split(separator: "\n").dropFirst() {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
            let fields = line.split(separator: " ")
            guard fields.count > 9, let colon = fields[1].lastIndex(of: ":"),
                let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16)
            else { continue }
            let listening = fields[3] == "0A"
            if port == localPort && !listening && inodes.contains(String(fields[9])) { count += 1 }
        }
        return count
    }

    /// Inode numbers of the sockets among this process's open descriptors.
    private static func socketInodes() -> Set<String> {
        var result: Set<String> = []
        guard let directory = opendir("/proc/self/fd") else { return result }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            var target = [CChar](repeating: 0, count: 256)
            let length = readlink("/proc/self/fd/\(name)", &target, target.count - 1)
            guard length > 0 else { continue }
            let link = String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if link.hasPrefix("socket:["), link.hasSuffix("]") {
                result.insert(String(link.dropFirst("socket:[".count).dropLast()))
            }
        }
        return result
    }

    /// The whole text of a (proc) file, read until its end; empty when it cannot be opened.
    private static func readFile(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
