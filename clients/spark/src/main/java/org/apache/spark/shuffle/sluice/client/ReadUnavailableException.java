package org.apache.spark.shuffle.sluice.client;

import java.io.IOException;

/** No copy of a partition epoch could be read (or its locations could not be had); names what each copy said. */
public final class ReadUnavailableException extends IOException {
    private static final long serialVersionUID = 1L;

    public ReadUnavailableException(String message) {
        super(message);
    }

    public ReadUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
