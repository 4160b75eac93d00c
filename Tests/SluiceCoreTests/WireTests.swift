import Testing

@testable import SluiceCore

@Suite struct WireTests {
    @Test func integersRoundTripBigEndian() throws {
        var writer = WireWriter()
        writer.writeU16(0x0102)
        writer.writeU32(0x0304_0506)
        writer.writeU64(0x0708_090A_0B0C_0D0E)
        writer.writeI32(-2)
        writer.writeString("héllo")
        writer.writeBlob([9, 8, 7])
        #expect(Array(writer.bytes.prefix(6)) == [1, 2, 3, 4, 5, 6])
        var reader = WireReader(writer.bytes)
        #expect(try reader.readU16() == 0x0102)
        #expect(try reader.readU32() == 0x0304_0506)
        #expect(try reader.readU64() == 0x0708_090A_0B0C_0D0E)
        #expect(try reader.readI32() == -2)
        #expect(try reader.readString() == "héllo")
        #expect(Array(try reader.readBlob()) == [9, 8, 7])
        try reader.expectEnd("test")
    }

    @Test func truncatedFieldsThrowMalformed() {
        var reader = WireReader([0, 0, 0, 9, 1])
        #expect(throws: ProtocolError.self) { try reader.readBlob() }
        var short = WireReader([0x01])
        do {
            _ = try short.readU32()
            Issue.record("expected a throw")
        } catch {
            #expect(error.status == .malformed)
        }
    }

    @Test func frameHeaderRejectsOversizedBodyBeforeAllocation() throws {
        let header = FrameHeader(bodyLength: 1 << 30, type: MessageType.pushBatch.rawValue, flags: [], requestId: 7)
        do {
            _ = try FrameHeader.decode(header.encoded[...], maxBodyBytes: 1 << 20)
            Issue.record("expected frameTooLarge")
        } catch {
            #expect(error.status == .frameTooLarge)
        }
        let ok = try FrameHeader.decode(header.encoded[...], maxBodyBytes: 1 << 30)
        #expect(ok == header)
    }

    @Test func batchHeaderRoundTripsAndValidates() throws {
        let header = BatchHeader(
            mapIndex: 3, attemptId: 1 << 40, sequence: 9, flags: .last, codec: .lz4,
            rawLength: 100, storedLength: 60, crc32c: 0xDEAD_BEEF)
        var writer = WireWriter()
        header.encode(into: &writer)
        #expect(writer.bytes.count == BatchHeader.byteCount)
        var reader = WireReader(writer.bytes)
        #expect(try BatchHeader.decode(from: &reader) == header)

        var bad = writer.bytes
        bad[17] = 7  // codec byte
        var badReader = WireReader(bad)
        #expect(throws: ProtocolError.self) { try BatchHeader.decode(from: &badReader) }
    }
}
