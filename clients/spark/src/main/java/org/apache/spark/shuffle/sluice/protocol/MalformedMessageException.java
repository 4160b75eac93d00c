package org.apache.spark.shuffle.sluice.protocol;

/** Bytes that do not decode as the message they should be (truncated, trailing bytes, bad values). */
public final class MalformedMessageException extends ProtocolException {
    private static final long serialVersionUID = 1L;

    public MalformedMessageException(String message) {
        super(StatusCode.MALFORMED, message);
    }
}
