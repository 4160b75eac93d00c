import SluiceCore
import Testing

@testable import SluiceCompression

@Suite struct BatchCodecTests {
    static let sizes = [0, 1, 1000, 4 << 20]

    /// Encodes `raw` as a batch with fixed ids.
    func batch(
        _ raw: [UInt8], _ codec: Codec, sequence: UInt32 = 7, isLast: Bool = false,
        fallback: Bool = true
    ) throws -> Batch {
        let (header, stored) = try BatchCodec.encode(
            raw: raw, codec: codec, mapIndex: 3, attemptId: 9_000_000_001,
            sequence: sequence, isLast: isLast,
            fallbackToNoneWhenLarger: fallback)
        return Batch(header: header, payload: stored[...])
    }

    /// `batch` with its payload replaced and its header's length and CRC fixed up to match.
    func withPayload(_ batch: Batch, _ payload: [UInt8]) -> Batch {
        var header = batch.header
        header.storedLength = UInt32(payload.count)
        header.crc32c = CRC32C.checksum(payload)
        return Batch(header: header, payload: payload[...])
    }

    @Test(arguments: Codec.allCases, sizes)
    func roundTrip(codec: Codec, byteCount: Int) throws {
        let raw = records(byteCount)
        let encoded = try batch(raw, codec, isLast: true)
        let header = encoded.header
        #expect(header.mapIndex == 3 && header.attemptId == 9_000_000_001 && header.sequence == 7 && header.isLast)
        #expect(header.rawLength == UInt32(raw.count))
        #expect(header.storedLength == UInt32(encoded.payload.count))
        #expect(header.crc32c == CRC32C.checksum(encoded.payload))
        // Tiny inputs do not shrink and fall back to none; realistic records do shrink.
        #expect(header.codec == (byteCount >= 1000 ? codec : .none))
        if codec != .none, byteCount >= 1000 { #expect(encoded.payload.count < raw.count) }
        try BatchCodec.verify(encoded)
        #expect(try BatchCodec.decode(encoded) == raw)
    }

    @Test(arguments: Codec.allCases)
    func decodeSliceEqualsDecodeAndSharesUncompressedPayloads(codec: Codec) throws {
        let raw = records(20_000)
        let encoded = try batch(raw, codec)
        let slice = try BatchCodec.decodeSlice(encoded)
        #expect(Array(slice) == raw)
        let shared = slice.withUnsafeBytes { s in
            encoded.payload.withUnsafeBytes { p in s.baseAddress == p.baseAddress }
        }
        #expect(shared == (codec == .none))
        var corrupted = encoded
        corrupted.payload[corrupted.payload.startIndex] ^= 0x01
        let error = #expect(throws: ProtocolError.self) { try BatchCodec.decodeSlice(corrupted) }
        #expect(error?.status == .corrupt)
    }

    @Test func uncompressedEncodeOfAnArrayKeepsItsStorage() throws {
        let raw = records(50_000)
        let (header, stored) = try BatchCodec.encode(
            raw: raw, codec: .none, mapIndex: 0, attemptId: 1, sequence: 0,
            isLast: false)
        let fromSlice = try BatchCodec.encode(
            raw: raw[...], codec: .none, mapIndex: 0, attemptId: 1, sequence: 0,
            isLast: false)
        #expect(header == fromSlice.header && stored == fromSlice.stored)
        let shared = stored.withUnsafeBytes { s in raw.withUnsafeBytes { r in s.baseAddress == r.baseAddress } }
        #expect(shared)
    }

    @Test(arguments: [Codec.lz4, .zstd])
    func sharedContextRoundTrips(codec: Codec) throws {
        let context = try CodecContext(zstdLevel: 3)
        for sequence in 0..<4 {
            let raw = TestData.shuffleRecords(byteCount: 20_000, seed: UInt64(sequence))
            let (header, stored) = try BatchCodec.encode(
                raw: raw, codec: codec, mapIndex: 0, attemptId: 1,
                sequence: UInt32(sequence), isLast: false, context: context)
            #expect(header.codec == codec)
            #expect(try BatchCodec.decode(Batch(header: header, payload: stored[...]), context: context) == raw)
        }
    }

    @Test(arguments: Codec.allCases)
    func flippedPayloadByteThrowsCorrupt(codec: Codec) throws {
        var corrupted = try batch(records(1000), codec)
        let middle = corrupted.payload.startIndex + corrupted.payload.count / 2
        corrupted.payload[middle] ^= 0x40
        let error = #expect(throws: ProtocolError.self) { try BatchCodec.decode(corrupted) }
        #expect(error?.status == .corrupt)
        #expect(error?.message.contains("CRC32C") == true)
    }

    @Test(arguments: [Codec.lz4, .zstd])
    func truncatedCompressedDataThrowsCorrupt(codec: Codec) throws {
        let good = try batch(records(1000), codec)
        #expect(good.header.codec == codec)
        // With the CRC fixed up, only the decompressor can notice the missing bytes.
        let truncated = withPayload(good, Array(good.payload.dropLast(good.payload.count / 3)))
        try BatchCodec.verify(truncated)
        let error = #expect(throws: ProtocolError.self) { try BatchCodec.decode(truncated) }
        #expect(error?.status == .corrupt)
    }

    @Test(arguments: [Codec.lz4, .zstd])
    func garbageWithValidCRCThrowsCorrupt(codec: Codec) throws {
        let garbage = withPayload(try batch(records(1000), codec), TestData.noise(byteCount: 400))
        let error = #expect(throws: ProtocolError.self) { try BatchCodec.decode(garbage) }
        #expect(error?.status == .corrupt)
    }

    @Test func inconsistentLengthsThrowCorrupt() throws {
        var short = try batch(records(1000), .lz4)
        short.payload = short.payload.dropLast()
        #expect((#expect(throws: ProtocolError.self) { try BatchCodec.verify(short) })?.status == .corrupt)

        var none = try batch(records(1000), .none)
        none.header.rawLength += 1
        #expect((#expect(throws: ProtocolError.self) { try BatchCodec.verify(none) })?.status == .corrupt)
    }

    @Test func fallbackPolicyForIncompressibleData() throws {
        let noise = TestData.noise(byteCount: 10_000)
        let kept = try batch(noise, .lz4)
        #expect(kept.header.codec == .none)
        #expect(Array(kept.payload) == noise)

        let forced = try batch(noise, .lz4, fallback: false)
        #expect(forced.header.codec == .lz4)
        #expect(forced.payload.count >= noise.count)
        #expect(try BatchCodec.decode(forced) == noise)
    }

    @Test func oversizedRawThrowsInvalidArgument() {
        let raw = [UInt8](repeating: 0, count: BatchHeader.maxBatchBytes + 1)
        let error = #expect(throws: ProtocolError.self) { try batch(raw, .lz4) }
        #expect(error?.status == .invalidArgument)
    }

    @Test func encodeWireIsHeaderThenPayload() throws {
        let raw = records(1000)
        let wire = try BatchCodec.encodeWire(
            raw: raw[...], codec: .zstd, mapIndex: 3, attemptId: 9_000_000_001,
            sequence: 7, isLast: false)
        let expected = try batch(raw, .zstd)
        #expect(wire == expected.header.encoded + Array(expected.payload))
        var reader = WireReader(wire)
        #expect(try BatchCodec.decode(Batch.decode(from: &reader)) == raw)
        #expect(reader.remaining == 0)
    }
}
