package org.apache.spark.shuffle.sluice.protocol;

import java.util.zip.CRC32C;

/** CRC32C (Castagnoli) of batch payloads, via the JDK's intrinsic {@link CRC32C}. */
public final class Crc32c {
    private Crc32c() {
    }

    /** The checksum as an unsigned 32-bit value in an int's bits. */
    public static int checksum(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }
}
