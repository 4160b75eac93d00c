import CSluiceShim
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Synchronization

@testable import SluiceStorage

#if canImport(Glibc)
    import Glibc
#endif

func crc32c(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { sluice_crc32c(0, $0.baseAddress, $0.count) }
}

func makeBatch(
    mapIndex: UInt32, attemptId: UInt64 = 1, sequence: UInt32, payloadBytes: Int,
    codec: Codec = .lz4, last: Bool = false
) -> Batch {
    let bytes = SeededGenerator.bytes(count: payloadBytes, seed: UInt64(mapIndex) << 32 | UInt64(sequence))
    let header = BatchHeader(
        mapIndex: mapIndex, attemptId: attemptId, sequence: sequence, flags: last ? .last : [],
        codec: codec, rawLength: UInt32(codec == .none ? payloadBytes : payloadBytes * 2),
        storedLength: UInt32(payloadBytes), crc32c: crc32c(bytes))
    return Batch(header: header, payload: bytes[...])
}

func encoded(_ batch: Batch) -> [UInt8] {
    var writer = WireWriter(capacity: batch.encodedByteCount)
    batch.encode(into: &writer)
    return writer.bytes
}

struct ParseFailure: Error, CustomStringConvertible {
    var description: String
}

/// Parses whole batches from chunk bytes, checking each payload's CRC32C.
func parseBatches(_ bytes: [UInt8]) throws -> [Batch] {
    var reader = WireReader(bytes)
    var batches: [Batch] = []
    while reader.remaining > 0 {
        let batch = try Batch.decode(from: &reader)
        guard crc32c(Array(batch.payload)) == batch.header.crc32c else {
            throw ParseFailure(description: "CRC mismatch in batch \(batch.header.mapIndex)/\(batch.header.sequence)")
        }
        batches.append(batch)
    }
    return batches
}

func key(
    _ app: String = "app-1", shuffle: UInt32 = 1, partition: UInt32 = 0, epoch: UInt32 = 0,
    role: PartitionRole = .primary
) throws -> PartitionFileKey {
    try PartitionFileKey(applicationId: app, shuffleId: shuffle, partitionId: partition, epoch: epoch, role: role)
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// Reads every chunk of a key's file and returns all bytes in order plus the parsed batches.
func readAll(_ store: DirectoryPartitionStore, _ key: PartitionFileKey) throws -> (
    bytes: [UInt8], chunks: [ChunkInfo], batches: [Batch]
) {
    let file = try store.openForRead(key, startMapIndex: 0, endMapIndex: .max)
    var bytes: [UInt8] = []
    var batches: [Batch] = []
    for chunk in file.chunks {
        let chunkBytes = try store.readChunk(file, chunk: chunk)
        bytes += chunkBytes
        batches += try parseBatches(chunkBytes)
    }
    return (bytes, file.chunks, batches)
}

/// Appends raw bytes to the end of a file (to simulate a torn or corrupted tail).
func appendRaw(_ bytes: [UInt8], to path: String) throws {
    let fs = PosixSystem()
    let fd = try fs.open(path: path, flags: O_WRONLY | O_CREAT, mode: 0o644)
    defer { fs.close(fd: fd) }
    let size = try fs.fileSizeBytes(fd: fd)
    try fs.writeFully(fd: fd, slice: bytes[...], offsetBytes: size)
}

/// Overwrites one byte of a file.
func overwriteByte(at offsetBytes: Int, in path: String, with value: UInt8) throws {
    let fs = PosixSystem()
    let fd = try fs.open(path: path, flags: O_WRONLY, mode: 0)
    defer { fs.close(fd: fd) }
    try fs.writeFully(fd: fd, slice: [value][...], offsetBytes: offsetBytes)
}

func fileSize(_ path: String) throws -> Int {
    let fs = PosixSystem()
    let fd = try fs.open(path: path, flags: O_RDONLY, mode: 0)
    defer { fs.close(fd: fd) }
    return try fs.fileSizeBytes(fd: fd)
}

/// The `StorageError` a body throws, nil when it throws nothing (or something else).
func storageError(_ body: () throws -> Void) -> StorageError? {
    do {
        try body()
        return nil
    } catch let error as StorageError {
        return error
    } catch {
        return nil
    }
}
