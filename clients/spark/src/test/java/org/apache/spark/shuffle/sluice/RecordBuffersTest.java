package org.apache.spark.shuffle.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.Serializer;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.expressions.codegen.UnsafeRowWriter;
import org.apache.spark.sql.execution.UnsafeRowSerializer;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import scala.Tuple2;

/**
 * Records written through {@link RecordBuffers} and cut into batches at random record boundaries read back, batch by
 * batch, with the serializer's own deserialization stream: with Kryo and Spark SQL's row serializer (one stream for
 * the whole task) and Java serialization (a stream per partition), for 10 and 10,000 partitions.
 */
class RecordBuffersTest {
    private static final int RECORDS = 30_000;
    private static final int PUSH_BUFFER_BYTES = 4096;

    static Stream<Arguments> cases() {
        return Stream.of("kryo", "java", "unsafe-row").flatMap(name -> Stream.of(Arguments.of(name, 10),
                Arguments.of(name, 10_000)));
    }

    private static Serializer serializer(String name) {
        switch (name) {
            case "kryo": return new KryoSerializer(new SparkConf(false));
            case "java": return new JavaSerializer(new SparkConf(false));
            default: return new UnsafeRowSerializer(2, null);
        }
    }

    /** Key and value of record {@code i} for partition {@code partition}, as the writer gets them. */
    private static Object[] record(String name, int i, int partition) {
        String text = "value " + i + " " + "x".repeat(i % 97);
        if (!name.equals("unsafe-row")) {
            return new Object[] {i, text};
        }
        UnsafeRowWriter writer = new UnsafeRowWriter(2);
        writer.reset();
        writer.zeroOutNullBytes();
        writer.write(0, (long) i);
        writer.write(1, UTF8String.fromString(text));
        return new Object[] {partition, writer.getRow().copy()};
    }

    /** What must come back of a record: the row serializer ships values only. */
    private static String describe(String name, Object key, Object value) {
        if (name.equals("unsafe-row")) {
            UnsafeRow row = (UnsafeRow) value;
            return row.getLong(0) + "=" + row.getUTF8String(1);
        }
        return key + "=" + value;
    }

    @ParameterizedTest(name = "{0}, {1} partitions")
    @MethodSource("cases")
    void everyBatchReadsBackAsItsRecords(String name, int partitions) throws Exception {
        Serializer serializer = serializer(name);
        RecordBuffers buffers = new RecordBuffers(serializer, 1, partitions, PUSH_BUFFER_BYTES);
        assertEquals(!name.equals("java"), buffers.sharesOneStream(), "one stream exactly when records relocate");
        Random random = new Random(partitions);
        Map<Integer, List<String>> written = new HashMap<>();
        Map<Integer, List<byte[]>> batches = new HashMap<>();
        for (int i = 0; i < RECORDS; i++) {
            int partition = random.nextInt(partitions);
            Object[] record = record(name, i, partition);
            PartitionBuffer buffer = buffers.write(partition, record[0], record[1]);
            written.computeIfAbsent(partition, p -> new ArrayList<>()).add(describe(name, record[0], record[1]));
            if (buffer.size() >= PUSH_BUFFER_BYTES || random.nextInt(40) == 0) {
                cut(buffer, batches, random.nextBoolean());
            }
        }
        buffers.closeSharedStream();
        for (PartitionBuffer buffer : buffers.all()) {
            if (buffer != null && buffer.hasRecords()) {
                cut(buffer, batches, false);
            }
        }
        Map<Integer, List<String>> read = new HashMap<>();
        for (Map.Entry<Integer, List<byte[]>> partition : batches.entrySet()) {
            for (byte[] batch : partition.getValue()) {
                scala.collection.Iterator<Tuple2<Object, Object>> records = serializer.newInstance()
                        .deserializeStream(new ByteArrayInputStream(batch)).asKeyValueIterator();
                while (records.hasNext()) {
                    Tuple2<Object, Object> record = records.next();
                    read.computeIfAbsent(partition.getKey(), p -> new ArrayList<>())
                            .add(describe(name, record._1(), record._2()));
                }
            }
        }
        assertEquals(written, read);
        assertTrue(batches.values().stream().mapToInt(List::size).sum() > partitions / 2, "batches were cut");
    }

    private static void cut(PartitionBuffer buffer, Map<Integer, List<byte[]>> batches, boolean keepArray) {
        buffer.closeStream();
        batches.computeIfAbsent(buffer.partitionId, p -> new ArrayList<>())
                .add(Arrays.copyOf(buffer.bytes, buffer.size));
        buffer.empty(keepArray);
    }
}
