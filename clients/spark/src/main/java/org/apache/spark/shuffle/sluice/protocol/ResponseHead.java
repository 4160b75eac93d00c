package org.apache.spark.shuffle.sluice.protocol;

/** The {@code status u16 | message string} head every response body starts with. */
public final class ResponseHead {
    public final int status;
    public final String message;

    public ResponseHead(int status, String message) {
        this.status = status;
        this.message = message;
    }

    public static ResponseHead decode(WireReader reader) throws MalformedMessageException {
        int status = StatusCode.decode(reader.readU16("status"));
        return new ResponseHead(status, reader.readString("message"));
    }

    public void encode(WireWriter writer) {
        writer.writeU16(status).writeString(message);
    }

    public boolean isOk() {
        return status == StatusCode.OK;
    }

    /** Throws a {@link ProtocolException} carrying the status (and {@code context}) unless it is ok. */
    public void requireOk(String context) throws ProtocolException {
        if (status != StatusCode.OK) {
            throw new ProtocolException(status, context + (message.isEmpty() ? "" : ": " + message));
        }
    }
}
