package org.apache.spark.shuffle.sluice.protocol;

/** A batch that failed its checksum, length or decompression checks. */
public final class CorruptBatchException extends ProtocolException {
    private static final long serialVersionUID = 1L;

    public CorruptBatchException(String message) {
        super(StatusCode.CORRUPT, message);
    }
}
