import SluiceCompression
import SluiceCore
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

/// Copies a partition file's first bytes into a new file for demotion: as they are, or batch by batch with
/// none/LZ4 batches re-encoded to Zstandard (the new codec, stored length and CRC32C recorded in each batch's
/// header). Asks the pacer before each piece. Every read and write runs in its directory's stall watch
/// (`Volume.watched`), so a copy hung on a stalled disk marks that directory for everyone else. The caller verifies
/// the copy afterwards.
struct MoveCopier {
    /// Bytes read and written per call when copying as is.
    static let pieceBytes = 1 << 20

    let fileSystem: any SystemCalls
    let sourceVolume: Volume
    let sourceFd: Int32
    let sourcePath: String
    let targetVolume: Volume
    let targetFd: Int32
    let targetPath: String
    let pacer: (any DemotionPacer)?

    /// Bytes written, and batches re-encoded.
    struct Copied {
        var bytes: Int
        var reencodedBatches: Int
    }

    /// Copies `bytes` bytes as they are. Nil when the pacer said stop.
    func copy(bytes: Int) throws(StorageError) -> Copied? {
        var buffer = [UInt8](repeating: 0, count: min(Self.pieceBytes, max(bytes, 1)))
        var offset = 0
        while offset < bytes {
            let piece = min(buffer.count, bytes - offset)
            guard pacer?.admit(bytes: piece) ?? true else { return nil }
            try read(into: &buffer, count: piece, at: offset)
            try write(buffer[0..<piece], at: offset)
            offset += piece
        }
        return Copied(bytes: bytes, reencodedBatches: 0)
    }

    /// Copies the batches in the first `bytes` bytes, re-encoding none and LZ4 batches to Zstandard when that makes
    /// them smaller (others are copied as they are). Each batch is verified (CRC32C) before it is re-encoded.
    /// Nil when the pacer said stop.
    func reencode(bytes: Int) throws(StorageError) -> Copied? {
        let context: CodecContext
        do throws(ProtocolError) {
            context = try CodecContext()
        } catch {
            throw StorageError(.ioError, message: "cannot create a Zstandard context: \(error.message)")
        }
        var headerBytes = [UInt8](repeating: 0, count: BatchHeader.byteCount)
        var payload: [UInt8] = []
        var offset = 0
        var copied = Copied(bytes: 0, reencodedBatches: 0)
        while offset < bytes {
            try read(into: &headerBytes, count: BatchHeader.byteCount, at: offset)
            var reader = WireReader(headerBytes)
            let header: BatchHeader
            do throws(ProtocolError) {
                header = try BatchHeader.decode(from: &reader)
            } catch {
                throw StorageError(.corrupt, message: "batch header at \(offset): \(error.message)", path: sourcePath)
            }
            let storedBytes = Int(header.storedLength)
            guard pacer?.admit(bytes: BatchHeader.byteCount + storedBytes) ?? true else { return nil }
            if payload.count < storedBytes { payload = [UInt8](repeating: 0, count: storedBytes) }
            try read(into: &payload, count: storedBytes, at: offset + BatchHeader.byteCount)
            var batch = Batch(header: header, payload: payload[0..<storedBytes])
            do throws(ProtocolError) {
                try BatchCodec.verify(batch)
            } catch {
                throw StorageError(.corrupt, message: "batch at \(offset): \(error.message)", path: sourcePath)
            }
            if let smaller = Self.zstd(batch, context: context) {
                batch = smaller
                copied.reencodedBatches += 1
            }
            try write(batch.header.encoded[...], at: copied.bytes)
            try write(batch.payload, at: copied.bytes + BatchHeader.byteCount)
            copied.bytes += batch.encodedByteCount
            offset += BatchHeader.byteCount + storedBytes
        }
        return copied
    }

    /// The batch re-encoded to Zstandard, or nil when it is Zstandard already, cannot be decoded (it is copied as
    /// it is: its reader fails on it either way), or does not get smaller.
    static func zstd(_ batch: Batch, context: CodecContext) -> Batch? {
        guard batch.header.codec != .zstd,
            let raw = try? BatchCodec.decode(batch, context: context),
            let stored = try? context.compress(raw[...], codec: .zstd),
            stored.count < batch.payload.count
        else { return nil }
        var header = batch.header
        header.codec = .zstd
        header.storedLength = UInt32(stored.count)
        header.crc32c = CRC32C.checksum(stored)
        return Batch(header: header, payload: stored[...])
    }

    private func read(into buffer: inout [UInt8], count: Int, at offset: Int) throws(StorageError) {
        let read: Int
        do throws(SystemCallError) {
            read = try sourceVolume.watched { () throws(SystemCallError) in
                try fileSystem.readFully(fd: sourceFd, into: &buffer, count: count, offsetBytes: offset)
            }
        } catch {
            throw StorageError.system(error, operation: "pread", path: sourcePath)
        }
        guard read == count else {
            throw StorageError(
                .corrupt, message: "file ends at \(offset + read), \(count) bytes were expected at \(offset)",
                path: sourcePath)
        }
    }

    private func write(_ bytes: ArraySlice<UInt8>, at offset: Int) throws(StorageError) {
        do throws(SystemCallError) {
            try targetVolume.watched { () throws(SystemCallError) in
                try fileSystem.writeFully(fd: targetFd, slice: bytes, offsetBytes: offset)
            }
        } catch {
            throw StorageError.system(error, operation: "pwrite", path: targetPath)
        }
    }
}
