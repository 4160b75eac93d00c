package org.apache.spark.shuffle.sluice.client;

import java.io.IOException;

/** A winning attempt's batches have a gap, lack the last flag, or a non-empty map delivered nothing. */
public final class ReadIncompleteException extends IOException {
    private static final long serialVersionUID = 1L;

    public ReadIncompleteException(String message) {
        super(message);
    }
}
