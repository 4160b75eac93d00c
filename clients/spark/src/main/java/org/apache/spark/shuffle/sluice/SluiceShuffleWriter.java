package org.apache.spark.shuffle.sluice;

import java.io.IOException;
import org.apache.spark.Partitioner;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.TaskContext;
import org.apache.spark.scheduler.MapStatus;
import org.apache.spark.shuffle.ShuffleWriteMetricsReporter;
import org.apache.spark.shuffle.ShuffleWriter;
import org.apache.spark.shuffle.sluice.client.PushSession;
import scala.Option;
import scala.Product2;

/**
 * Writes one map task attempt's output to Sluice workers.
 *
 * <p>Records (combined first when the dependency asks for map-side combine) are serialized into one buffer per reduce
 * partition. When the serializer allows serialized records to be relocated (Kryo with auto-reset, Spark SQL's row
 * serializer), every record goes through one serialization stream for the whole task ({@link SharedRecordStream}), so
 * the cost of a map task does not grow with the number of partitions; otherwise each partition's batch has a stream of
 * its own (Java serialization). A buffer that reaches {@code spark.sluice.push.bufferSize} is cut: the bytes become one
 * batch, a complete stream of its own, handed to the {@link PushSession}, which copies or
 * compresses them; a partition that filled its buffer may keep the array for its next batch ({@link BufferRetention}).
 * When all buffers together exceed {@code spark.sluice.writer.bufferMemory}, the largest is cut early. At the end of
 * {@link #write} the remaining buffers are cut with the last flag and the session is finished: every batch is
 * acknowledged by every copy before the task may report its {@link MapStatus}, which is what commits the output
 * (winner = reported attempt). On Spark 4.1+ the MapStatus also carries Spark's order-independent row checksum of the
 * task's records ({@link RowChecksums}), so Spark detects a retried map task whose output differs.
 */
public final class SluiceShuffleWriter<K, V, C> extends ShuffleWriter<K, V> {
    private final ShuffleDependency<K, V, C> dependency;
    private final int shuffleId;
    private final int numPartitions;
    private final long mapTaskId;
    private final TaskContext context;
    private final ShuffleWriteMetricsReporter metrics;
    private final PushSession session;
    private final WorkerTimesAccumulator workerTimes;
    private final int pushBufferBytes;
    private final long bufferMemoryBytes;
    private final RecordBuffers recordBuffers;
    private final PartitionBuffer[] buffers;
    private final BufferRetention retention;
    private final RowChecksums rowChecksums;
    private long bufferedBytes;
    private long[] partitionLengths;
    private MapStatus mapStatus;
    private boolean stopped;

    /** {@code session} is null only when the shuffle has no reduce partitions. */
    SluiceShuffleWriter(SluiceShuffleHandle<K, V, C> handle, long mapTaskId, TaskContext context,
                        ShuffleWriteMetricsReporter metrics, PushSession session, SluiceConf conf) {
        this.dependency = handle.dependency();
        this.shuffleId = handle.shuffleId();
        this.numPartitions = handle.numPartitions();
        this.mapTaskId = mapTaskId;
        this.context = context;
        this.metrics = metrics;
        this.session = session;
        this.workerTimes = handle.workerTimes();
        this.pushBufferBytes = conf.pushBufferBytes;
        this.bufferMemoryBytes = conf.writerBufferMemoryBytes;
        this.recordBuffers = new RecordBuffers(dependency.serializer(), shuffleId, numPartitions, pushBufferBytes);
        this.buffers = recordBuffers.all();
        this.retention = new BufferRetention(conf.writerBufferMemoryBytes);
        this.rowChecksums = RowChecksums.of(dependency);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void write(scala.collection.Iterator<Product2<K, V>> records) throws IOException {
        scala.collection.Iterator<? extends Product2<K, ?>> input;
        Partitioner partitioner = dependency.partitioner();
        // Spark's writers update the row checksums with the records they are given, before any map-side combine.
        boolean checksumInput = rowChecksums.enabled() && !dependency.mapSideCombine();
        if (dependency.mapSideCombine()) {
            if (dependency.aggregator().isEmpty()) {
                throw new IllegalStateException("map-side combine without an aggregator in shuffle " + shuffleId);
            }
            scala.collection.Iterator<Product2<K, V>> raw = records;
            if (rowChecksums.enabled()) {
                raw = records.map(record -> {
                    rowChecksums.update(partitioner.getPartition(record._1()), record._1(), record._2());
                    return record;
                });
            }
            input = dependency.aggregator().get().combineValuesByKey(raw, context);
        } else {
            input = records;
        }
        while (input.hasNext()) {
            Product2<K, ?> record = input.next();
            K key = record._1();
            int partitionId = partitioner.getPartition(key);
            if (checksumInput) {
                rowChecksums.update(partitionId, key, record._2());
            }
            PartitionBuffer buffer = buffers[partitionId];
            long before = buffer == null ? 0 : buffer.size();
            buffer = recordBuffers.write(partitionId, key, record._2());
            bufferedBytes += buffer.size() - before;
            metrics.incRecordsWritten(1);
            if (buffer.size() >= pushBufferBytes) {
                cut(buffer, false);
            } else if (bufferedBytes > bufferMemoryBytes) {
                cutLargest();
            }
        }
        commit();
    }

    /** Cuts every buffer with the last flag and waits until the workers have stored everything. */
    private void commit() throws IOException {
        recordBuffers.closeSharedStream();
        if (session == null) {
            partitionLengths = new long[numPartitions];
        } else {
            for (PartitionBuffer buffer : buffers) {
                if (buffer != null && buffer.hasRecords()) {
                    cut(buffer, true);
                }
            }
            long started = System.nanoTime();
            session.finish();
            metrics.incWriteTime(System.nanoTime() - started);
            workerTimes.addPush(session.pushTimesByWorker());
            partitionLengths = session.storedBytesPerPartition(numPartitions);
        }
        long storedBytes = 0;
        for (long length : partitionLengths) {
            storedBytes += length;
        }
        metrics.incBytesWritten(storedBytes);
        mapStatus = SparkCompat.mapStatus(SparkCompat.sluiceLocation(shuffleId), partitionLengths, mapTaskId,
                rowChecksums);
    }

    private void cutLargest() throws IOException {
        while (bufferedBytes > bufferMemoryBytes) {
            PartitionBuffer largest = null;
            for (PartitionBuffer buffer : buffers) {
                if (buffer != null && (largest == null || buffer.size() > largest.size())) {
                    largest = buffer;
                }
            }
            if (largest == null || largest.size() == 0) {
                return;
            }
            cut(largest, false);
        }
    }

    private void cut(PartitionBuffer buffer, boolean last) throws IOException {
        long accountedBytes = buffer.size; // closing may flush more bytes the serializer held back
        buffer.closeStream();
        long started = System.nanoTime();
        session.addBatch(buffer.partitionId, buffer.bytes, 0, buffer.size, last);
        metrics.incWriteTime(System.nanoTime() - started);
        bufferedBytes -= accountedBytes;
        retention.empty(buffer, last);
    }

    @Override
    public Option<MapStatus> stop(boolean success) {
        if (stopped) {
            return Option.empty();
        }
        stopped = true;
        if (success && mapStatus != null) {
            return Option.apply(mapStatus);
        }
        recordBuffers.clear();
        if (session != null) {
            session.close();
        }
        if (success) {
            throw new IllegalStateException("stop(true) before write() completed in shuffle " + shuffleId);
        }
        return Option.empty();
    }

    @Override
    public long[] getPartitionLengths() {
        return partitionLengths == null ? new long[numPartitions] : partitionLengths.clone();
    }
}
