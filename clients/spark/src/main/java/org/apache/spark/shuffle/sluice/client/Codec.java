package org.apache.spark.shuffle.sluice.client;

import org.apache.spark.shuffle.sluice.protocol.BatchHeader;

/** Batch codec numbers as on the wire. */
public final class Codec {
    public static final byte NONE = BatchHeader.CODEC_NONE;
    public static final byte LZ4 = BatchHeader.CODEC_LZ4;
    public static final byte ZSTD = BatchHeader.CODEC_ZSTD;

    private Codec() {
    }

    /** Parses "none", "lz4" or "zstd" (case-insensitive). */
    public static byte parse(String name) {
        switch (name.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "none": return NONE;
            case "lz4": return LZ4;
            case "zstd": case "zstandard": return ZSTD;
            default: throw new IllegalArgumentException("unknown codec " + name + " (none, lz4, zstd)");
        }
    }

    public static String name(byte codec) {
        return BatchHeader.codecName(codec);
    }
}
