import Glibc
import SluiceCore

/// Frame streams shaped like Sluice's data path: a 16-byte `FrameHeader`, then the body.
enum FrameStream {
    /// Number of frames each connection carries so that all connections together move about `totalBytes`.
    static func framesPerConnection(totalBytes: Int, messageBytes: Int, connections: Int) -> Int {
        max(1, totalBytes / (messageBytes * connections))
    }

    /// Writes `frames` frames with `messageBytes`-byte bodies, header and body in one write call per frame.
    static func send(to fd: Int32, messageBytes: Int, frames: Int) throws {
        let frameBytes = FrameHeader.byteCount + messageBytes
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: frameBytes, alignment: 4096)
        defer { buffer.deallocate() }
        fillPattern(buffer, frameBytes)
        for frame in 0..<frames {
            try writeHeader(into: buffer, bodyBytes: messageBytes, requestId: UInt64(frame))
            try BlockingIO.writeAll(fd, buffer, frameBytes)
        }
    }

    /// Reads frames until end of stream, checks each header, and hands every body to `onBody`.
    /// Returns the number of body bytes received.
    static func receive(
        from fd: Int32, maxBodyBytes: Int, expectedFrames: Int,
        onBody: (UnsafeRawPointer, Int) throws -> Void
    ) throws -> Int {
        let body = UnsafeMutableRawPointer.allocate(byteCount: max(maxBodyBytes, 1), alignment: 4096)
        defer { body.deallocate() }
        var header = [UInt8](repeating: 0, count: FrameHeader.byteCount)
        var frames = 0
        var bodyBytes = 0
        while true {
            let more = try header.withUnsafeMutableBytes { raw -> Bool in
                guard let base = raw.baseAddress else { return false }
                return try BlockingIO.readExactly(fd, base, raw.count)
            }
            guard more else { break }
            let decoded: FrameHeader
            do { decoded = try FrameHeader.decode(header[...], maxBodyBytes: maxBodyBytes) } catch {
                throw BenchError("bad frame header: \(error)")
            }
            let length = Int(decoded.bodyLength)
            guard try BlockingIO.readExactly(fd, body, length) || length == 0 else {
                throw BenchError("end of stream before a frame body of \(length) bytes")
            }
            try onBody(body, length)
            frames += 1
            bodyBytes += length
        }
        guard frames == expectedFrames else {
            throw BenchError("received \(frames) frames, expected \(expectedFrames)")
        }
        return bodyBytes
    }

    /// Encodes a push-like one-way frame header into the first 16 bytes at `buffer`.
    static func writeHeader(into buffer: UnsafeMutableRawPointer, bodyBytes: Int, requestId: UInt64) throws {
        guard let length = UInt32(exactly: bodyBytes) else { throw BenchError("frame body of \(bodyBytes) bytes") }
        let header = FrameHeader(
            bodyLength: length, type: MessageType.pushBatch.rawValue, flags: .oneWay,
            requestId: requestId)
        UnsafeMutableRawBufferPointer(start: buffer, count: FrameHeader.byteCount).copyBytes(from: header.encoded)
    }

    /// Fills a buffer with a non-zero byte pattern.
    static func fillPattern(_ buffer: UnsafeMutableRawPointer, _ count: Int) {
        let bytes = buffer.bindMemory(to: UInt8.self, capacity: count)
        for index in 0..<count { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
    }
}
