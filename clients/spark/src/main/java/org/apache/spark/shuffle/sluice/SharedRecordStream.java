package org.apache.spark.shuffle.sluice;

import java.io.OutputStream;
import org.apache.spark.serializer.SerializationStream;
import org.apache.spark.serializer.SerializerInstance;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * One serialization stream for every record of a map task, whose output goes to the partition buffer of the record
 * being written. Valid only for serializers that support relocation of serialized objects (Spark's own contract for
 * its serialized sort: the bytes of consecutive records, flushed after each, may be cut apart and concatenated in any
 * order and still read as one stream). Spark opens a serialization stream per partition otherwise; for Kryo that
 * means a new Kryo instance per partition per map task, because a serializer instance lends its cached Kryo to one
 * open stream at a time: with thousands of partitions that cost dominated the map stage.
 */
final class SharedRecordStream extends OutputStream {
    private static final ClassTag<Object> ANY = ClassTag$.MODULE$.Any();

    private final int shuffleId;
    private final SerializationStream stream;
    private PartitionBuffer target;

    SharedRecordStream(SerializerInstance serializer, int shuffleId) {
        this.shuffleId = shuffleId;
        this.stream = serializer.serializeStream(this);
    }

    /** Serializes one record and flushes it, so that all of its bytes, and only its bytes, land in {@code buffer}. */
    void write(PartitionBuffer buffer, Object key, Object value) {
        target = buffer;
        try {
            stream.writeKey(key, ANY);
            stream.writeValue(value, ANY);
            stream.flush();
        } finally {
            target = null;
        }
        buffer.noteRecord();
    }

    @Override
    public void write(int b) {
        sink().write(b);
    }

    @Override
    public void write(byte[] source, int offset, int length) {
        if (length > 0) {
            sink().write(source, offset, length);
        }
    }

    private PartitionBuffer sink() {
        if (target == null) {
            throw new IllegalStateException("the serializer of shuffle " + shuffleId
                    + " wrote bytes outside a record; it cannot share one stream across partitions");
        }
        return target;
    }

    /** Closes the serialization stream (giving back what the serializer lent it, such as a Kryo instance). */
    void finish() {
        stream.close();
    }

    /** Called by the serialization stream when it closes: this sink holds nothing. */
    @Override
    public void close() {
    }

    @Override
    public void flush() {
    }
}
