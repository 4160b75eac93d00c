package org.apache.spark.shuffle.sluice.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads big-endian fields from a byte range; every read checks bounds and throws
 * {@link MalformedMessageException} naming the field past the end. Never allocates more than what is present.
 */
public final class WireReader {
    private final byte[] bytes;
    private final int limit;
    private int position;

    public WireReader(byte[] bytes, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > bytes.length) {
            throw new IndexOutOfBoundsException("range " + offset + "+" + length + " of " + bytes.length);
        }
        this.bytes = bytes;
        this.position = offset;
        this.limit = offset + length;
    }

    public WireReader(byte[] bytes) {
        this(bytes, 0, bytes.length);
    }

    /** Bytes not read yet. */
    public int remaining() {
        return limit - position;
    }

    /** Absolute index of the next byte in the underlying array. */
    public int position() {
        return position;
    }

    /** The underlying array (for zero-copy access to ranges returned by {@link #skip}). */
    public byte[] array() {
        return bytes;
    }

    private int take(int count, String field) throws MalformedMessageException {
        if (count < 0 || count > remaining()) {
            throw new MalformedMessageException("truncated field " + field + ": needs " + count + " bytes, "
                    + remaining() + " left");
        }
        int start = position;
        position += count;
        return start;
    }

    public int readU8(String field) throws MalformedMessageException {
        return bytes[take(1, field)] & 0xFF;
    }

    public boolean readBool(String field) throws MalformedMessageException {
        int value = readU8(field);
        if (value > 1) {
            throw new MalformedMessageException("field " + field + " is not a boolean: " + value);
        }
        return value == 1;
    }

    public int readU16(String field) throws MalformedMessageException {
        int at = take(2, field);
        return (bytes[at] & 0xFF) << 8 | (bytes[at + 1] & 0xFF);
    }

    /** A u32 as a non-negative long. */
    public long readU32(String field) throws MalformedMessageException {
        int at = take(4, field);
        return getU32(bytes, at);
    }

    /** A u32 that must fit in a non-negative int (counts, lengths, indexes). */
    public int readU32AsInt(String field) throws MalformedMessageException {
        long value = readU32(field);
        if (value > Integer.MAX_VALUE) {
            throw new MalformedMessageException("field " + field + " = " + value + " is out of range");
        }
        return (int) value;
    }

    /** A u64 as a Java long (bit pattern preserved). */
    public long readU64(String field) throws MalformedMessageException {
        int at = take(8, field);
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = value << 8 | (bytes[at + i] & 0xFF);
        }
        return value;
    }

    /** A u16-length UTF-8 string; invalid UTF-8 is malformed. */
    public String readString(String field) throws MalformedMessageException {
        int length = readU16(field);
        int at = take(length, field);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, at, length)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedMessageException("field " + field + " is not valid UTF-8");
        }
    }

    /** A byte field: u32 length, then the bytes (copied). */
    public byte[] readBlob(String field) throws MalformedMessageException {
        long length = readU32(field);
        if (length > remaining()) {
            throw new MalformedMessageException("field " + field + " claims " + length + " bytes, only "
                    + remaining() + " left");
        }
        int at = take((int) length, field);
        return java.util.Arrays.copyOfRange(bytes, at, at + (int) length);
    }

    /** Skips {@code count} bytes and returns the absolute index where they start. */
    public int skip(int count, String field) throws MalformedMessageException {
        return take(count, field);
    }

    /** A u32 element count, rejected when it could not fit in what is left at {@code minimumElementBytes} each. */
    public int readCount(String field, int minimumElementBytes) throws MalformedMessageException {
        long count = readU32(field);
        if (count * Math.max(minimumElementBytes, 1) > remaining()) {
            throw new MalformedMessageException("field " + field + " claims " + count + " elements, only "
                    + remaining() + " bytes left");
        }
        return (int) count;
    }

    /** Throws unless every byte was consumed: trailing bytes make a message malformed. */
    public void expectEnd(String message) throws MalformedMessageException {
        if (remaining() != 0) {
            throw new MalformedMessageException(remaining() + " trailing bytes after " + message);
        }
    }

    /** The big-endian u32 at {@code offset}. */
    public static long getU32(byte[] source, int offset) {
        return ((source[offset] & 0xFFL) << 24) | ((source[offset + 1] & 0xFFL) << 16)
                | ((source[offset + 2] & 0xFFL) << 8) | (source[offset + 3] & 0xFFL);
    }
}
