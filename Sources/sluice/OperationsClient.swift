import Foundation
import SluiceAuth
import SluiceCore
import SluiceNet
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

/// What a request to an operations API got: the status and the body.
struct OperationsReply {
    var status: Int
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request to an operations API failed before an answer came back.
struct OperationsClientError: Error, CustomStringConvertible {
    var description: String
}

/// A small blocking HTTP/1.1 client for the operations API: one request per connection, `Content-Length` answers,
/// a deadline on connect and on the whole exchange.
struct OperationsClient {
    let host: String
    let port: Int
    let token: String?
    /// Signs every request with the admin key when the cluster has a secret.
    let signer: RequestSigner?
    let timeoutMs: Int

    /// `host:port`, or `[v6]:port`, for the Host header and messages.
    private var endpoint: String { EndpointText.format(host: host, port: port) }

    func get(_ path: String) throws -> OperationsReply { try request("GET", path) }
    func post(_ path: String) throws -> OperationsReply { try request("POST", path) }

    private func request(_ method: String, _ path: String) throws -> OperationsReply {
        let fd = try connect()
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(endpoint)\r\nConnection: close\r\n"
        head += "User-Agent: sluice/\(SluiceVersion.current)\r\nContent-Length: 0\r\n"
        if let signer {
            let authorization = signer.authorization(
                method: method, path: path, body: [], unixSeconds: Int64(time(nil)))
            head += "Authorization: \(authorization)\r\n"
        } else if let token, !token.isEmpty {
            head += "Authorization: Bearer \(token)\r\n"
        }
        head += "\r\n"
        try send(fd, Array(head.utf8))
        return try parse(try receiveAll(fd))
    }

    private func connect() throws -> Int32 {
        do {
            let fd = try Sockets.connect(host: host, port: port, timeoutMs: timeoutMs)
            var limit = timeval(tv_sec: timeoutMs / 1000, tv_usec: Int((timeoutMs % 1000) * 1000))
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            return fd
        } catch {
            throw OperationsClientError(description: "cannot connect to \(endpoint): \(error)")
        }
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) throws {
        do {
            try bytes.withUnsafeBytes { try PosixSystem().writeAll(fd, [$0]) }
        } catch {
            throw OperationsClientError(description: "send to \(endpoint) failed: \(error)")
        }
    }

    private func receiveAll(_ fd: Int32) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while bytes.count < 64 << 20 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                bytes.append(contentsOf: chunk[0..<n])
            } else if n == 0 {
                return bytes
            } else if errno != EINTR {
                throw OperationsClientError(description: "no answer from \(endpoint) within \(timeoutMs) ms")
            }
        }
        throw OperationsClientError(description: "answer from \(endpoint) over 64 MiB")
    }

    private func parse(_ bytes: [UInt8]) throws -> OperationsReply {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard
            let end = (0...max(bytes.count - separator.count, 0)).first(where: {
                bytes.count >= $0 + separator.count && Array(bytes[$0..<$0 + separator.count]) == separator
            })
        else { throw OperationsClientError(description: "not an HTTP answer from \(endpoint)") }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        let fields = head.split(separator: "\r\n").first?.split(separator: " ") ?? []
        guard fields.count >= 2, let status = Int(fields[1]) else {
            throw OperationsClientError(description: "bad status line from \(endpoint)")
        }
        return OperationsReply(status: status, body: Array(bytes[(end + separator.count)...]))
    }
}
