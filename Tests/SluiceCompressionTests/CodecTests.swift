import SluiceCore
import Testing

@testable import SluiceCompression

@Suite struct CodecTests {
    @Test(arguments: [0, 1, 1000, 65_536])
    func lz4RoundTrip(byteCount: Int) throws {
        let raw = records(byteCount)
        let stored = try LZ4.compress(raw[...])
        #expect(stored.count <= LZ4.maxCompressedLengthBytes(rawLengthBytes: raw.count))
        #expect(try LZ4.decompress(stored[...], rawLengthBytes: raw.count) == raw)
    }

    @Test(arguments: [0, 1, 1000, 65_536])
    func zstdRoundTripWithReusedContexts(byteCount: Int) throws {
        let raw = records(byteCount)
        let compressor = try ZstdCompressor(level: 3)
        let decompressor = try ZstdDecompressor()
        for _ in 0..<3 {
            let stored = try compressor.compress(raw[...])
            #expect(try decompressor.decompress(stored[...], rawLengthBytes: raw.count) == raw)
        }
        #expect(try Zstd.decompress(Zstd.compress(raw[...])[...], rawLengthBytes: raw.count) == raw)
    }

    @Test func appendingKeepsThePrefix() throws {
        let raw = records(10_000)
        var output: [UInt8] = [1, 2, 3]
        let lz4Bytes = try LZ4.compress(raw[...], appendingTo: &output)
        #expect(output.count == 3 + lz4Bytes)
        #expect(Array(output.prefix(3)) == [1, 2, 3])
        #expect(try LZ4.decompress(output[3...], rawLengthBytes: raw.count) == raw)

        let zstdBytes = try ZstdCompressor().compress(raw[...], appendingTo: &output)
        #expect(output.count == 3 + lz4Bytes + zstdBytes)
        #expect(try Zstd.decompress(output[(3 + lz4Bytes)...], rawLengthBytes: raw.count) == raw)
    }

    @Test(arguments: [Codec.lz4, .zstd])
    func wrongRawLengthThrowsCorrupt(codec: Codec) throws {
        let raw = records(5000)
        let context = try CodecContext()
        let stored = try context.compress(raw[...], codec: codec)
        for claimed in [raw.count - 1, raw.count + 1, 0] {
            let error = #expect(throws: ProtocolError.self) {
                try context.decompress(stored[...], codec: codec, rawLengthBytes: claimed)
            }
            #expect(error?.status == .corrupt)
        }
    }

    @Test(arguments: [Codec.lz4, .zstd])
    func garbageAndTruncationThrowCorrupt(codec: Codec) throws {
        let raw = records(5000)
        let context = try CodecContext()
        let stored = try context.compress(raw[...], codec: codec)
        let inputs = [TestData.noise(byteCount: 300), Array(stored.prefix(stored.count / 2)), [], [0xFF]]
        for input in inputs {
            let error = #expect(throws: ProtocolError.self) {
                try context.decompress(input[...], codec: codec, rawLengthBytes: raw.count)
            }
            #expect(error?.status == .corrupt)
        }
    }

    @Test func zstdLevelIsValidated() {
        #expect(Zstd.levelRange.contains(Zstd.defaultLevel))
        let error = #expect(throws: ProtocolError.self) { try ZstdCompressor(level: Zstd.levelRange.upperBound + 1) }
        #expect(error?.status == .invalidArgument)
        #expect(throws: ProtocolError.self) { try CodecContext(zstdLevel: 1000) }
    }

    @Test func higherZstdLevelIsNotLarger() throws {
        let raw = records(200_000)
        let fast = try ZstdCompressor(level: 1).compress(raw[...])
        let strong = try ZstdCompressor(level: 9).compress(raw[...])
        #expect(strong.count <= fast.count)
        #expect(fast.count < raw.count / 2)
    }
}
