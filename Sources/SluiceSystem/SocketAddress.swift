#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 socket address, kept as a `sockaddr_storage` with its length, as `getaddrinfo`, `getsockname`
/// and `getpeername` give it.
public struct SocketAddress {
    private var storage = sockaddr_storage()
    /// The meaningful length of the stored address.
    public private(set) var length: socklen_t = 0

    /// Most addresses one name may resolve to that are looked at (a bound on the list `getaddrinfo` returns).
    public static let resolvedAddressesMax = 16

    /// Copies `length` bytes of `address`.
    init(_ address: UnsafePointer<sockaddr>, length: socklen_t) {
        let count = min(Int(length), MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: count))
        }
        self.length = socklen_t(count)
    }

    /// Fills an address with a call such as `getsockname`; nil when it fails (errno is left set).
    private init?(filling call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) {
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call($0, &length) }
        }
        guard rc == 0 else { return nil }
        self.length = min(length, socklen_t(MemoryLayout<sockaddr_storage>.size))
    }

    /// `AF_INET` or `AF_INET6`.
    public var family: Int32 { Int32(storage.ss_family) }

    /// Whether this is an IPv6 address (IPv4-mapped ones included).
    public var isIPv6: Bool { family == AF_INET6 }

    /// The port, in host byte order.
    public var port: Int {
        withUnsafeBytes(of: storage) { raw in
            // sin_port and sin6_port sit at the same offset, right after the family.
            Int(UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        }
    }

    /// The IPv4 address bytes: of an IPv4 address, or of an IPv4-mapped IPv6 one (`::ffff:a.b.c.d`); else nil.
    private var ipv4Bytes: [UInt8]? {
        withUnsafeBytes(of: storage) { raw in
            if family == AF_INET {
                let offset = MemoryLayout<sockaddr_in>.offset(of: \.sin_addr) ?? 4
                return Array(raw[offset..<offset + 4])
            }
            guard family == AF_INET6 else { return nil }
            let bytes = ipv6Bytes(raw)
            guard bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
            return Array(bytes[12..<16])
        }
    }

    private func ipv6Bytes(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
        let offset = MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr) ?? 8
        return Array(raw[offset..<offset + 16])
    }

    /// 127.0.0.0/8, `::1`, or an IPv4-mapped 127.x address.
    public var isLoopback: Bool {
        if let v4 = ipv4Bytes { return v4[0] == 127 }
        guard family == AF_INET6 else { return false }
        let bytes = withUnsafeBytes(of: storage) { ipv6Bytes($0) }
        return bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
    }

    /// `0.0.0.0` or `::` (the wildcard a listener binds to, never a place to reach).
    public var isUnspecified: Bool {
        if family == AF_INET { return ipv4Bytes?.allSatisfy { $0 == 0 } ?? false }
        guard family == AF_INET6 else { return false }
        return withUnsafeBytes(of: storage) { ipv6Bytes($0) }.allSatisfy { $0 == 0 }
    }

    /// The numeric host, without brackets: `10.0.0.5`, `fd00::2`, `fe80::1%eth0`; an IPv4-mapped IPv6 address (a
    /// client reaching a dual-stack listener over IPv4) as its IPv4 form. Empty when it cannot be formatted.
    public var host: String {
        if let v4 = ipv4Bytes { return v4.map(String.init).joined(separator: ".") }
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let rc = withSockaddr { address, length in
            getnameinfo(address, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST)
        }
        guard rc == 0 else { return "" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    public func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Result) rethrows -> Result {
        try withUnsafePointer(to: storage) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }

    /// Resolves `host` (an IPv4 or IPv6 literal, without brackets, or a name) with `getaddrinfo` (`AF_UNSPEC`,
    /// stream sockets), in the order it gives: IPv4 and IPv6 results alike, at most `resolvedAddressesMax`.
    /// `passive` resolves for binding (a literal wildcard such as `0.0.0.0` or `::` stays what it is).
    /// Throws EINVAL for a port outside 0...65535, EHOSTUNREACH (with `getaddrinfo`'s words) when nothing resolves.
    public static func resolve(host: String, port: Int, passive: Bool) throws(SystemCallError) -> [SocketAddress] {
        guard (0...65535).contains(port) else {
            throw SystemCallError(errno: EINVAL, call: "getaddrinfo", cause: "port \(port) out of range")
        }
        return try lookup(host: host, port: port, flags: passive ? AI_PASSIVE : 0)
    }

    /// The address an IPv4 or IPv6 literal (without brackets) stands for, with port 0; nil for a name or malformed
    /// text. Nothing is looked up.
    public static func literal(_ host: String) -> SocketAddress? {
        try? lookup(host: host, port: 0, flags: AI_NUMERICHOST).first
    }

    private static func lookup(host: String, port: Int, flags: Int32) throws(SystemCallError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = flags
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, list != nil else {
            let text = rc == 0 ? "no address" : String(cString: gai_strerror(rc))
            throw SystemCallError(errno: EHOSTUNREACH, call: "getaddrinfo", cause: "cannot resolve \(host): \(text)")
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var node = list
        while let entry = node, addresses.count < resolvedAddressesMax {
            let family = entry.pointee.ai_family
            if family == AF_INET || family == AF_INET6, let address = entry.pointee.ai_addr {
                addresses.append(SocketAddress(address, length: entry.pointee.ai_addrlen))
            }
            node = entry.pointee.ai_next
        }
        guard !addresses.isEmpty else {
            throw SystemCallError(
                errno: EHOSTUNREACH, call: "getaddrinfo", cause: "no IPv4 or IPv6 address for \(host)")
        }
        return addresses
    }

    /// The local address `fd` is bound to (`getsockname`).
    public static func local(of fd: Int32) throws(SystemCallError) -> SocketAddress {
        guard let address = SocketAddress(filling: { getsockname(fd, $0, $1) }) else {
            throw SystemCallError(errno: errno, call: "getsockname")
        }
        return address
    }

    /// The address of the peer of `fd` (`getpeername`); nil when it has none.
    public static func peer(of fd: Int32) -> SocketAddress? {
        SocketAddress(filling: { getpeername(fd, $0, $1) })
    }

    /// The local address the kernel picks to reach `target`: a UDP socket is connected to it (which sends nothing,
    /// only routes) and read back with `getsockname`. This is the source address a TCP connection to `target`
    /// gets, the address of the interface that routes there.
    public static func route(toward target: SocketAddress) throws(SystemCallError) -> SocketAddress {
        let fd = try Posix.retrying("socket") {
            socket(target.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        defer { _ = close(fd) }
        try Posix.retrying("connect") { target.withSockaddr { Glibc.connect(fd, $0, $1) } }
        return try local(of: fd)
    }
}

/// Opening listening TCP sockets on IPv4 or IPv6 addresses.
public enum ListeningSocket {
    /// Resolves `host` for binding and listens on its first address, `port` 0 letting the kernel pick: a stream
    /// socket, close-on-exec, with SO_REUSEADDR, and non-blocking when asked. An IPv6 socket accepts IPv4 too
    /// (IPV6_V6ONLY off), so `::` is dual-stack while `0.0.0.0` stays IPv4 only.
    /// Returns the descriptor and the bound port.
    public static func open(host: String, port: Int, backlog: Int, nonBlocking: Bool) throws(SystemCallError) -> (
        fd: Int32, port: Int
    ) {
        guard let address = try SocketAddress.resolve(host: host, port: port, passive: true).first else {
            throw SystemCallError(errno: EHOSTUNREACH, call: "getaddrinfo", cause: "no address for \(host)")
        }
        var type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        let fd = try Posix.retrying("socket") { socket(address.family, type, 0) }
        do {
            var one: Int32 = 1
            try Posix.retrying("setsockopt(SO_REUSEADDR)") {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            if address.isIPv6 {
                var zero: Int32 = 0
                try Posix.retrying("setsockopt(IPV6_V6ONLY)") {
                    setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
                }
            }
            try Posix.retrying("bind") { address.withSockaddr { bind(fd, $0, $1) } }
            try Posix.retrying("listen") { Glibc.listen(fd, Int32(clamping: backlog)) }
            return (fd, try SocketAddress.local(of: fd).port)
        } catch {
            _ = close(fd)
            throw error
        }
    }
}
