import SluiceHTTP
import SluiceTestKit
import Testing

/// HTTP/2 from a raw client: several requests in flight on one connection (curl 7.88 cannot reuse a
/// prior-knowledge connection: curl issue 10634, fixed in 8.0), and the header list limit.
@Suite struct HTTP2Tests {
    @Test func interleavedStreamsAreAllAnswered() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let socket = try RawSocket(port: port)
        let paths: [UInt32: (path: String, bodyBytes: Int)] = [
            1: ("/big", bigBodyBytes), 3: ("/items/1", 7), 5: ("/hello", 6), 7: ("/big", bigBodyBytes),
            9: ("/nowhere", 10),
        ]
        var bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        bytes += HTTP2Frames.frame(type: 4, flags: 0, stream: 0, payload: [0, 4, 0x7f, 0xff, 0xff, 0xff])
        bytes += HTTP2Frames.frame(type: 8, flags: 0, stream: 0, payload: HTTP2Frames.bigEndian(0x7fff_ffff - 65_535))
        for (stream, request) in paths.sorted(by: { $0.key < $1.key }) {
            bytes += HTTP2Frames.frame(
                type: 1, flags: 0x5, stream: stream, payload: HTTP2Frames.requestBlock(request.path))
        }
        socket.send(bytes)
        var received: [UInt8] = []
        let (all, closed) = socket.read(timeoutMs: 10_000) { got in
            received = got
            return Set(HTTP2Frames.frames(got).filter { $0.flags & 1 != 0 && $0.stream != 0 }.map(\.stream)).count
                == paths.count
        }
        #expect(!closed)
        received = all
        let frames = HTTP2Frames.frames(received)
        for (stream, request) in paths {
            let data = frames.filter { $0.type == 0 && $0.stream == stream }.map(\.length).reduce(0, +)
            #expect(data == request.bodyBytes, "stream \(stream) \(request.path)")
            #expect(frames.contains { $0.type == 1 && $0.stream == stream }, "no HEADERS on stream \(stream)")
        }
        // The two large bodies were interleaved with the small ones, not sent one after the other.
        let dataStreams = frames.filter { $0.type == 0 }.map(\.stream)
        let firstSmall = dataStreams.firstIndex(of: 3) ?? Int.max
        let lastBig = dataStreams.lastIndex(of: 1) ?? -1
        #expect(firstSmall < lastBig)
    }

    @Test func headerListOverTheLimitGets431AndTheConnectionLives() throws {
        let (server, port) = try startServer(testConfig(maxHeaderBytes: 4_096))
        defer { server.stop() }
        let socket = try RawSocket(port: port)
        var bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        bytes += HTTP2Frames.frame(type: 4, flags: 0, stream: 0, payload: [])
        let big =
            HTTP2Frames.requestBlock("/hello") + [0x00] + HTTP2Frames.hpackInteger(5, prefixBits: 7)
            + Array("x-big".utf8) + HTTP2Frames.hpackInteger(6_000, prefixBits: 7)
            + Array(repeating: UInt8(ascii: "a"), count: 6_000)
        bytes += HTTP2Frames.frame(type: 1, flags: 0x5, stream: 1, payload: big)
        bytes += HTTP2Frames.frame(type: 1, flags: 0x5, stream: 3, payload: HTTP2Frames.requestBlock("/hello"))
        socket.send(bytes)
        var headerBlocks: [UInt32: [UInt8]] = [:]
        let (_, closed) = socket.read(timeoutMs: 10_000) { got in
            headerBlocks = HTTP2Frames.headerBlocks(got)
            return Set(HTTP2Frames.frames(got).filter { $0.flags & 1 != 0 && $0.stream != 0 }.map(\.stream)) == [1, 3]
        }
        #expect(!closed)
        // 431 is not in HPACK's static table: nghttp2 sends it as a literal (3 characters, not Huffman-coded).
        #expect(String(decoding: headerBlocks[1] ?? [], as: UTF8.self).contains("431"))
        #expect(headerBlocks[3]?.first == 0x88)  // :status 200, static table index 8
    }
}

extension HTTP2Frames {
    /// The HEADERS payload (header block, no padding or priority expected) of each stream in `bytes`.
    static func headerBlocks(_ bytes: [UInt8]) -> [UInt32: [UInt8]] {
        var blocks: [UInt32: [UInt8]] = [:]
        var offset = 0
        for frame in frames(bytes) {
            if frame.type == 1 { blocks[frame.stream] = Array(bytes[(offset + 9)..<(offset + 9 + frame.length)]) }
            offset += 9 + frame.length
        }
        return blocks
    }

    /// An HPACK integer with a `prefixBits`-bit prefix (RFC 7541 section 5.1), prefix flags zero.
    static func hpackInteger(_ value: Int, prefixBits: Int) -> [UInt8] {
        let limit = (1 << prefixBits) - 1
        guard value >= limit else { return [UInt8(value)] }
        var bytes = [UInt8(limit)]
        var rest = value - limit
        while rest >= 128 {
            bytes.append(UInt8(rest % 128 + 128))
            rest /= 128
        }
        bytes.append(UInt8(rest))
        return bytes
    }

    struct Frame {
        var type: UInt8
        var flags: UInt8
        var stream: UInt32
        var length: Int
    }

    /// Every whole frame in `bytes` (after the server's first bytes, which are frames already).
    static func frames(_ bytes: [UInt8]) -> [Frame] {
        var frames: [Frame] = []
        var offset = 0
        while offset + 9 <= bytes.count {
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            guard offset + 9 + length <= bytes.count else { break }
            let stream =
                UInt32(bytes[offset + 5] & 0x7f) << 24 | UInt32(bytes[offset + 6]) << 16
                | UInt32(bytes[offset + 7]) << 8 | UInt32(bytes[offset + 8])
            frames.append(Frame(type: bytes[offset + 3], flags: bytes[offset + 4], stream: stream, length: length))
            offset += 9 + length
        }
        return frames
    }

    static func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        [UInt8(payload.count >> 16 & 0xff), UInt8(payload.count >> 8 & 0xff), UInt8(payload.count & 0xff), type, flags]
            + bigEndian(stream) + payload
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    /// HPACK: :method GET and :scheme http from the static table, :path and :authority as literals without
    /// indexing (no Huffman coding).
    static func requestBlock(_ path: String) -> [UInt8] {
        [0x82, 0x86, 0x04, UInt8(path.utf8.count)] + Array(path.utf8) + [0x01, 4] + Array("test".utf8)
    }
}
