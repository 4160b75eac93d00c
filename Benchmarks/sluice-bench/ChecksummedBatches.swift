import CSluiceShim
import Glibc
import SluiceCore

/// Frame bodies cut into `Baselines.floorBatchBytes` batches that carry their own CRC32C (in the first 4 bytes),
/// for the design-floor baselines.
enum ChecksummedBatches {
    static let batchBytes = Baselines.floorBatchBytes
    static let sliceBytes = 32 << 10
    static let poolBytes = 8 << 20

    /// Writes `frames` frames; each body is filled batch by batch with 32 KiB copies from a rotating 8 MiB pool,
    /// each batch checksummed, then the frame written in one call.
    static func send(to fd: Int32, messageBytes: Int, frames: Int) throws {
        let pool = UnsafeMutableRawPointer.allocate(byteCount: poolBytes, alignment: 4096)
        defer { pool.deallocate() }
        FrameStream.fillPattern(pool, poolBytes)
        let frameBytes = FrameHeader.byteCount + messageBytes
        let frame = UnsafeMutableRawPointer.allocate(byteCount: frameBytes, alignment: 4096)
        defer { frame.deallocate() }
        var poolOffset = 0
        for index in 0..<frames {
            try FrameStream.writeHeader(into: frame, bodyBytes: messageBytes, requestId: UInt64(index))
            let body = frame + FrameHeader.byteCount
            var start = 0
            while start < messageBytes {
                let end = min(messageBytes, start + batchBytes)
                var at = start + 4
                while at < end {
                    let count = min(sliceBytes, end - at, poolBytes - poolOffset)
                    (body + at).copyMemory(from: pool + poolOffset, byteCount: count)
                    at += count
                    poolOffset = (poolOffset + count) % poolBytes
                }
                storeChecksum(body + start, end - start)
                start = end
            }
            try BlockingIO.writeAll(fd, frame, frameBytes)
        }
    }

    /// Throws unless every batch of the body matches its checksum.
    static func verify(_ body: UnsafeRawPointer, _ length: Int) throws {
        var start = 0
        while start < length {
            let end = min(length, start + batchBytes)
            guard end - start > 4 else { break }
            let stored = body.loadUnaligned(fromByteOffset: start, as: UInt32.self)
            guard sluice_crc32c(0, body + start + 4, end - start - 4) == stored else {
                throw BenchError("checksum mismatch in the batch at byte \(start)")
            }
            start = end
        }
    }

    /// The CRC32C of every batch of a `fillPattern` buffer of `chunkBytes` (as `CachedFile` writes its files).
    static func patternChecksums(chunkBytes: Int) -> [UInt32] {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkBytes, alignment: 4096)
        defer { buffer.deallocate() }
        FrameStream.fillPattern(buffer, chunkBytes)
        return stride(from: 0, to: chunkBytes, by: batchBytes).map {
            sluice_crc32c(0, buffer + $0, min(batchBytes, chunkBytes - $0))
        }
    }

    /// Throws unless every batch of a received chunk (which starts at a chunk boundary of the file) matches.
    static func verifyPattern(_ body: UnsafeRawPointer, _ length: Int, expected: [UInt32]) throws {
        for (index, start) in stride(from: 0, to: length, by: batchBytes).enumerated() {
            let count = min(batchBytes, length - start)
            let crc = sluice_crc32c(0, body + start, count)
            guard count < batchBytes || index >= expected.count || crc == expected[index] else {
                throw BenchError("checksum mismatch in the received batch at byte \(start)")
            }
        }
    }

    private static func storeChecksum(_ batch: UnsafeMutableRawPointer, _ count: Int) {
        let crc = sluice_crc32c(0, batch + 4, count - 4)
        batch.storeBytes(of: crc, as: UInt32.self)
    }
}
