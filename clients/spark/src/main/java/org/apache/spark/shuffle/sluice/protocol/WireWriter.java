package org.apache.spark.shuffle.sluice.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Appends big-endian fields (DataOutputStream order) to a growing byte array. Strings are a u16 byte length then
 * UTF-8; byte fields a u32 length then the bytes.
 */
public final class WireWriter {
    private byte[] bytes;
    private int size;

    public WireWriter(int initialCapacityBytes) {
        bytes = new byte[Math.max(16, initialCapacityBytes)];
    }

    public WireWriter() {
        this(64);
    }

    /** Empties the writer and keeps its array, so that one writer can encode message after message. */
    public WireWriter reset() {
        size = 0;
        return this;
    }

    private void ensure(int extraBytes) {
        long needed = (long) size + extraBytes;
        if (needed > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("message larger than 2 GiB");
        }
        if (needed > bytes.length) {
            bytes = Arrays.copyOf(bytes, (int) Math.min(Integer.MAX_VALUE - 16, Math.max(needed, bytes.length * 2L)));
        }
    }

    public WireWriter writeU8(int value) {
        ensure(1);
        bytes[size++] = (byte) value;
        return this;
    }

    public WireWriter writeBool(boolean value) {
        return writeU8(value ? 1 : 0);
    }

    public WireWriter writeU16(int value) {
        ensure(2);
        bytes[size++] = (byte) (value >>> 8);
        bytes[size++] = (byte) value;
        return this;
    }

    /** Writes the low 32 bits of {@code value}. */
    public WireWriter writeU32(long value) {
        ensure(4);
        putU32(bytes, size, value);
        size += 4;
        return this;
    }

    public WireWriter writeU64(long value) {
        ensure(8);
        for (int shift = 56; shift >= 0; shift -= 8) {
            bytes[size++] = (byte) (value >>> shift);
        }
        return this;
    }

    /** A string: u16 byte length, then UTF-8. Throws IllegalArgumentException above 65,535 bytes. */
    public WireWriter writeString(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > 0xFFFF) {
            throw new IllegalArgumentException("string field of " + utf8.length + " bytes exceeds 65535");
        }
        writeU16(utf8.length);
        return writeRaw(utf8, 0, utf8.length);
    }

    /** A byte field: u32 length, then the bytes. */
    public WireWriter writeBlob(byte[] value, int offset, int length) {
        writeU32(length);
        return writeRaw(value, offset, length);
    }

    /** Bytes with no length prefix. */
    public WireWriter writeRaw(byte[] value, int offset, int length) {
        ensure(length);
        System.arraycopy(value, offset, bytes, size, length);
        size += length;
        return this;
    }

    /** Bytes written so far. */
    public int size() {
        return size;
    }

    /** The internal buffer; only the first {@link #size()} bytes are meaningful. */
    public byte[] buffer() {
        return bytes;
    }

    /** A copy of exactly the bytes written. */
    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }

    /** Stores {@code value}'s low 32 bits big-endian at {@code offset}. */
    public static void putU32(byte[] target, int offset, long value) {
        target[offset] = (byte) (value >>> 24);
        target[offset + 1] = (byte) (value >>> 16);
        target[offset + 2] = (byte) (value >>> 8);
        target[offset + 3] = (byte) value;
    }
}
