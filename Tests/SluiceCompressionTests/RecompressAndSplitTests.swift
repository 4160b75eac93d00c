import SluiceCore
import Testing

@testable import SluiceCompression

@Suite struct RecompressAndSplitTests {
    func noneBatch(_ raw: [UInt8], sequence: UInt32 = 5, isLast: Bool = true) throws -> Batch {
        let (header, stored) = try BatchCodec.encode(
            raw: raw, codec: .none, mapIndex: 11, attemptId: 77,
            sequence: sequence, isLast: isLast)
        return Batch(header: header, payload: stored[...])
    }

    @Test(arguments: [Codec.lz4, .zstd])
    func recompressShrinksAndKeepsIdentity(codec: Codec) throws {
        let raw = records(100_000)
        let original = try noneBatch(raw)
        let compressed = try BatchCodec.recompress(original, to: codec)
        #expect(compressed.header.codec == codec)
        #expect(compressed.payload.count < original.payload.count)
        #expect(compressed.header.storedLength == UInt32(compressed.payload.count))
        #expect(compressed.header.rawLength == original.header.rawLength)
        #expect(compressed.header.mapIndex == 11 && compressed.header.attemptId == 77)
        #expect(compressed.header.sequence == 5 && compressed.header.isLast)
        #expect(compressed.header.crc32c != original.header.crc32c)
        #expect(try BatchCodec.decode(compressed) == raw)
    }

    @Test func recompressLeavesUnhelpfulOrCompressedBatchesAlone() throws {
        let incompressible = try noneBatch(TestData.noise(byteCount: 5000))
        #expect(try BatchCodec.recompress(incompressible, to: .lz4) == incompressible)
        #expect(try BatchCodec.recompress(incompressible, to: .none) == incompressible)

        let compressed = try BatchCodec.recompress(try noneBatch(records(5000)), to: .lz4)
        #expect(compressed.header.codec == .lz4)
        #expect(try BatchCodec.recompress(compressed, to: .zstd) == compressed)
    }

    @Test func recompressRefusesACorruptBatch() throws {
        var bad = try noneBatch(records(5000))
        bad.payload[bad.payload.startIndex + 10] ^= 0xFF
        let error = #expect(throws: ProtocolError.self) { try BatchCodec.recompress(bad, to: .lz4) }
        #expect(error?.status == .corrupt)
    }

    /// Three batches of different codecs, concatenated on the wire, and their raw inputs.
    func chunk() throws -> (bytes: [UInt8], raws: [[UInt8]]) {
        let raws = (0..<3).map { TestData.shuffleRecords(byteCount: 3000 + $0 * 100, seed: UInt64($0)) }
        var bytes: [UInt8] = []
        for (index, codec) in [Codec.none, .lz4, .zstd].enumerated() {
            bytes += try BatchCodec.encodeWire(
                raw: raws[index][...], codec: codec, mapIndex: 1, attemptId: 2,
                sequence: UInt32(index), isLast: index == 2)
        }
        return (bytes, raws)
    }

    @Test func splitBatchesOfAConcatenation() throws {
        let (bytes, raws) = try chunk()
        let batches = try BatchCodec.splitBatches(bytes)
        #expect(batches.map(\.header.sequence) == [0, 1, 2])
        #expect(batches.map(\.header.codec) == [.none, .lz4, .zstd])
        #expect(try batches.map { try BatchCodec.decode($0) } == raws)
        #expect(try BatchCodec.splitBatches([UInt8]()).isEmpty)
        // A slice that does not start at index 0 splits the same way.
        let padded = [0xAA] + bytes
        #expect(try BatchCodec.splitBatches(padded[1...]).count == 3)
    }

    @Test(arguments: [1, 20, BatchHeader.byteCount, 100])
    func splitBatchesOfATruncatedChunkThrows(droppedBytes: Int) throws {
        let (bytes, _) = try chunk()
        let error = #expect(throws: ProtocolError.self) { try BatchCodec.splitBatches(bytes.dropLast(droppedBytes)) }
        #expect(error?.status == .corrupt)
        #expect(error?.message.contains("batch 2") == true)
    }
}
