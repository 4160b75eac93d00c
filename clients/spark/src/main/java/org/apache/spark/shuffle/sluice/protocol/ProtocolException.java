package org.apache.spark.shuffle.sluice.protocol;

import java.io.IOException;

/**
 * A protocol-level failure carrying a Sluice status code: a peer answered with a status other than ok, or bytes
 * received could not be decoded (status {@link StatusCode#MALFORMED}) or failed a batch check
 * ({@link StatusCode#CORRUPT}).
 */
public class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int status;

    public ProtocolException(int status, String message) {
        super(StatusCode.name(status) + ": " + message);
        this.status = status;
    }

    /** The status code (a {@link StatusCode} constant). */
    public int status() {
        return status;
    }
}
