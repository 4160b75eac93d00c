package org.apache.spark.shuffle.sluice.protocol;

/** One received or sent frame: header fields and its body. */
public final class Frame {
    public final int type;
    public final int flags;
    public final long requestId;
    public final byte[] body;

    public Frame(int type, int flags, long requestId, byte[] body) {
        this.type = type;
        this.flags = flags;
        this.requestId = requestId;
        this.body = body;
    }

    public boolean isResponse() {
        return (flags & FrameHeader.FLAG_RESPONSE) != 0;
    }
}
