package org.apache.spark.shuffle.sluice.net;

import java.io.IOException;

/** The connection failed: could not connect, was closed or broken, or a request timed out. */
public final class ConnectionException extends IOException {
    private static final long serialVersionUID = 1L;

    public ConnectionException(String message) {
        super(message);
    }

    public ConnectionException(String message, Throwable cause) {
        super(message, cause);
    }
}
