package org.apache.spark.shuffle.sluice.protocol;

/**
 * The fixed 16-byte header in front of every frame, big-endian:
 * {@code bodyLength u32 | type u16 | flags u16 | requestId u64}, then {@code bodyLength} body bytes.
 */
public final class FrameHeader {
    /** Size of the encoded header in bytes. */
    public static final int BYTES = 16;
    /** Flag bit: this frame is a response. */
    public static final int FLAG_RESPONSE = 1;
    /** Flag bit: the request wants no response. */
    public static final int FLAG_ONE_WAY = 2;
    private static final int KNOWN_FLAGS = FLAG_RESPONSE | FLAG_ONE_WAY;

    public final int bodyLength;
    public final int type;
    public final int flags;
    public final long requestId;

    public FrameHeader(int bodyLength, int type, int flags, long requestId) {
        this.bodyLength = bodyLength;
        this.type = type;
        this.flags = flags;
        this.requestId = requestId;
    }

    public boolean isResponse() {
        return (flags & FLAG_RESPONSE) != 0;
    }

    /** Writes the 16 header bytes at {@code offset}. */
    public void encodeTo(byte[] target, int offset) {
        WireWriter.putU32(target, offset, bodyLength);
        target[offset + 4] = (byte) (type >>> 8);
        target[offset + 5] = (byte) type;
        target[offset + 6] = (byte) (flags >>> 8);
        target[offset + 7] = (byte) flags;
        for (int i = 0; i < 8; i++) {
            target[offset + 8 + i] = (byte) (requestId >>> (56 - 8 * i));
        }
    }

    public byte[] encode() {
        byte[] bytes = new byte[BYTES];
        encodeTo(bytes, 0);
        return bytes;
    }

    /**
     * Decodes 16 header bytes and checks the body length against {@code maxBodyBytes} before anything is
     * allocated for the body. Throws {@link ProtocolException} with status frameTooLarge or malformed.
     */
    public static FrameHeader decode(byte[] bytes, int offset, int maxBodyBytes) throws ProtocolException {
        WireReader reader = new WireReader(bytes, offset, BYTES);
        long length = reader.readU32("frame.bodyLength");
        int type = reader.readU16("frame.type");
        int flags = reader.readU16("frame.flags");
        long requestId = reader.readU64("frame.requestId");
        if (length > maxBodyBytes) {
            throw new ProtocolException(StatusCode.FRAME_TOO_LARGE, "frame body of " + length
                    + " bytes exceeds the maximum of " + maxBodyBytes);
        }
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new MalformedMessageException("unknown frame flags 0x" + Integer.toHexString(flags));
        }
        return new FrameHeader((int) length, type, flags, requestId);
    }
}
