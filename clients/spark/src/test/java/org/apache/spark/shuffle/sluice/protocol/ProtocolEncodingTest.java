package org.apache.spark.shuffle.sluice.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Byte-exact encodings derived from the Swift encoders (Sources/SluiceCore) and decoding of bad input. */
class ProtocolEncodingTest {
    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    private static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    @Test
    void crc32cCheckValue() {
        byte[] data = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, Crc32c.checksum(data, 0, data.length));
        assertEquals(0, Crc32c.checksum(new byte[0], 0, 0));
    }

    @Test
    void frameHeaderBytes() throws Exception {
        FrameHeader header = new FrameHeader(0x0102, MessageType.REGISTER_SHUFFLE, FrameHeader.FLAG_RESPONSE,
                0x0A0B0C0D0E0F1011L);
        assertEquals("00000102" + "0020" + "0001" + "0a0b0c0d0e0f1011", hex(header.encode()));
        FrameHeader decoded = FrameHeader.decode(header.encode(), 0, 1 << 20);
        assertEquals(0x0102, decoded.bodyLength);
        assertEquals(0x0A0B0C0D0E0F1011L, decoded.requestId);
        assertTrue(decoded.isResponse());
    }

    @Test
    void frameHeaderChecksLengthAndFlags() {
        ProtocolException tooLarge = assertThrows(ProtocolException.class,
                () -> FrameHeader.decode(bytes("01000000 0001 0000 0000000000000001"), 0, 1 << 20));
        assertEquals(StatusCode.FRAME_TOO_LARGE, tooLarge.status());
        assertThrows(MalformedMessageException.class,
                () -> FrameHeader.decode(bytes("00000000 0001 0004 0000000000000001"), 0, 1 << 20));
    }

    @Test
    void helloRequestBytes() {
        assertEquals("534c4345" + "0001" + "00" + "0002" + "6162", hex(Hello.encodeRequest(Hello.ROLE_CLIENT, "ab")));
    }

    @Test
    void helloResponseDecodes() throws Exception {
        Hello.Response ok = Hello.decodeResponse(bytes("0000 0000 0001 0002 7731"));
        assertEquals(StatusCode.OK, ok.head.status);
        assertEquals(1, ok.version);
        assertEquals("w1", ok.serverId);
        Hello.Response refused = Hello.decodeResponse(bytes("000c 0002 6e6f"));
        assertEquals(StatusCode.UNSUPPORTED_VERSION, refused.head.status);
        assertEquals("no", refused.head.message);
    }

    @Test
    void masterRequestBytes() {
        ShuffleKey key = new ShuffleKey("app", 7);
        assertEquals("0003617070" + "00000007" + "00000008" + "00000032" + "01",
                hex(Messages.registerShuffle(key, 8, 50, true)));
        assertEquals("0003617070" + "00000007", hex(Messages.shuffleKey(key)));
        assertEquals("0003617070" + "00000007" + "00000003" + "00000002" + "0002" + "7731",
                hex(Messages.revive(key, 3, 2, "w1")));
        assertEquals("0003617070", hex(Messages.application("app")));
    }

    @Test
    void workerRequestBytes() {
        ShuffleKey key = new ShuffleKey("a", 1);
        assertEquals("000161" + "00000001" + "00000005" + "00000002" + "01" + "00000000" + "ffffffff" + "07",
                hex(Messages.openStream(key, 5, 2, Messages.ROLE_REPLICA, 0, Messages.ALL_MAPS_END, 7)));
        assertEquals("0000000000000009" + "00000003", hex(Messages.fetchChunk(9, 3)));
        assertEquals("0000000000000009", hex(Messages.closeStream(9)));
    }

    @Test
    void pushRequestBytes() throws Exception {
        byte[] payload = {1, 2, 3};
        BatchHeader header = new BatchHeader(4, 0x1122334455667788L, 6, BatchHeader.FLAG_LAST, BatchHeader.CODEC_NONE,
                3, 3, Crc32c.checksum(payload, 0, 3));
        Batch batch = new Batch(header, payload, 0);
        byte[] body = PushRequest.encode(new ShuffleKey("a", 1), Messages.ROLE_PRIMARY, List.of(
                new PushRequest.Entry(9, 2, "w2", "h", 80, batch),
                new PushRequest.Entry(10, 0, null, null, 0, batch)));
        String batchHex = "00000004" + "1122334455667788" + "00000006" + "01" + "00" + "0000" + "00000003" + "00000003"
                + String.format("%08x", header.crc32c) + "010203";
        assertEquals("000161" + "00000001" + "00" + "00000002"
                + "00000009" + "00000002" + "01" + "00027732" + "000168" + "0050" + batchHex
                + "0000000a" + "00000000" + "00" + batchHex, hex(body));
        assertEquals(MessageType.PUSH_BATCHES, PushRequest.frameType(2));
        assertEquals(MessageType.PUSH_BATCH, PushRequest.frameType(1));
    }

    @Test
    void aReusedWriterEncodesEachPushAloneAfterALargerOne() throws Exception {
        byte[] large = new byte[100_000];
        byte[] small = {1, 2, 3};
        Batch largeBatch = new Batch(new BatchHeader(1, 1, 0, 0, BatchHeader.CODEC_NONE, large.length, large.length,
                Crc32c.checksum(large, 0, large.length)), large, 0);
        Batch smallBatch = new Batch(new BatchHeader(2, 2, 0, BatchHeader.FLAG_LAST, BatchHeader.CODEC_NONE, 3, 3,
                Crc32c.checksum(small, 0, 3)), small, 0);
        ShuffleKey key = new ShuffleKey("a", 1);
        List<PushRequest.Entry> first = List.of(new PushRequest.Entry(1, 0, "w2", "h", 80, largeBatch));
        List<PushRequest.Entry> second = List.of(new PushRequest.Entry(2, 0, null, null, 0, smallBatch));
        WireWriter writer = new WireWriter();
        PushRequest.encode(key, Messages.ROLE_PRIMARY, first, writer);
        assertArrayEquals(PushRequest.encode(key, Messages.ROLE_PRIMARY, first), writer.toByteArray());
        byte[] array = writer.buffer();
        PushRequest.encode(key, Messages.ROLE_PRIMARY, second, writer);
        assertTrue(array == writer.buffer(), "the larger push's array is reused");
        assertArrayEquals(PushRequest.encode(key, Messages.ROLE_PRIMARY, second), writer.toByteArray());
    }

    @Test
    void pushResponseStatuses() throws Exception {
        assertArrayEquals(new int[] {0, 1, 31}, Messages.decodePushStatuses(bytes("0000 0000 00000003 0000 0001 001f"), 3));
        // A head-only reply applies the head's status to every entry.
        assertArrayEquals(new int[] {10, 10}, Messages.decodePushStatuses(bytes("000a 0003 626164"), 2));
        // Unknown codes from a newer peer decode as internalError.
        assertArrayEquals(new int[] {99}, Messages.decodePushStatuses(bytes("0000 0000 00000001 0fff"), 1));
        assertThrows(MalformedMessageException.class,
                () -> Messages.decodePushStatuses(bytes("0000 0000 ffffffff 0000"), 1));
    }

    @Test
    void openStreamAndChunkResponses() throws Exception {
        Messages.OpenStreamResponse open = Messages.decodeOpenStream(
                bytes("0000 0000 0000000000000005 00000002 0000000000000400"));
        assertEquals(5, open.streamId);
        assertEquals(2, open.chunkCount);
        assertEquals(1024, open.storedBytes);
        assertEquals(StatusCode.UNKNOWN_PARTITION, Messages.decodeOpenStream(bytes("0015 0000")).head.status);
        Messages.ChunkResponse chunk = Messages.decodeFetchChunk(bytes("0000 0000 00000002 abcd"));
        assertEquals(2, chunk.dataLength);
        assertEquals((byte) 0xab, chunk.body[chunk.dataOffset]);
        assertThrows(MalformedMessageException.class, () -> Messages.decodeFetchChunk(bytes("0000 0000 00000005 abcd")));
        assertThrows(MalformedMessageException.class, () -> Messages.decodeStatus(bytes("0000 0000 00")));
    }

    @Test
    void readerRejectsBadInput() {
        assertThrows(MalformedMessageException.class, () -> new WireReader(bytes("02")).readBool("b"));
        assertThrows(MalformedMessageException.class, () -> new WireReader(bytes("0002 c328")).readString("s"));
        assertThrows(MalformedMessageException.class, () -> new WireReader(bytes("0005 6162")).readString("s"));
        assertThrows(MalformedMessageException.class, () -> new WireReader(bytes("000000")).readU32("u"));
    }

    @Test
    void batchHeaderValidation() throws Exception {
        BatchHeader header = new BatchHeader(1, 2, 3, 0, BatchHeader.CODEC_ZSTD, 100, 40, 0x12345678);
        WireWriter writer = new WireWriter();
        header.encode(writer);
        assertEquals(BatchHeader.BYTES, writer.size());
        BatchHeader decoded = BatchHeader.decode(new WireReader(writer.toByteArray()));
        assertEquals(100, decoded.rawLength);
        assertEquals(0x12345678, decoded.crc32c);
        byte[] bad = writer.toByteArray();
        bad[17] = 9; // codec
        assertThrows(MalformedMessageException.class, () -> BatchHeader.decode(new WireReader(bad)));
        byte[] none = writer.toByteArray();
        none[17] = 0; // codec none with raw != stored
        assertThrows(MalformedMessageException.class, () -> BatchHeader.decode(new WireReader(none)));
        byte[] flags = writer.toByteArray();
        flags[16] = 2;
        assertThrows(MalformedMessageException.class, () -> BatchHeader.decode(new WireReader(flags)));
    }
}
