package org.apache.spark.shuffle.sluice;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.spark.Aggregator;
import org.apache.spark.InterruptibleIterator;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.shuffle.FetchFailedException;
import org.apache.spark.shuffle.ShuffleReadMetricsReporter;
import org.apache.spark.shuffle.ShuffleReader;
import org.apache.spark.shuffle.sluice.client.PartitionReader;
import org.apache.spark.shuffle.sluice.client.ReadIncompleteException;
import org.apache.spark.shuffle.sluice.client.ReadUnavailableException;
import org.apache.spark.shuffle.sluice.client.SluiceClient;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockManagerId;
import org.apache.spark.storage.ShuffleBlockId;
import org.apache.spark.util.TaskCompletionListener;
import org.apache.spark.util.collection.ExternalSorter;
import scala.Product2;
import scala.Tuple2;
import scala.Tuple3;
import scala.collection.AbstractIterator;
import scala.math.Ordering;

/**
 * Reads a range of reduce partitions (restricted to a range of map indexes) of a Sluice shuffle for one task.
 *
 * <p>The winning attempt of every map and the maps with data for each partition come from Spark's MapOutputTracker
 * (the MapStatus a map task reported is what committed its output). A background thread reads the partitions in
 * order with the client core's {@link PartitionReader}, which verifies and filters the batches, and hands the
 * decompressed batches to the task thread through a queue bounded by {@link #MAX_QUEUED_BYTES}; the task thread
 * deserializes each batch (one complete serialization stream) lazily, then aggregation and key ordering are applied
 * like Spark's own BlockStoreShuffleReader. The record iterator ends only after every partition was read completely;
 * an incomplete or unreadable partition raises {@link FetchFailedException}, so Spark reruns the map stage instead of
 * seeing short data.
 */
public final class SluiceShuffleReader<K, C> implements ShuffleReader<K, C> {
    /** Decompressed batches waiting for the task thread, at most (one batch is always admitted). */
    static final long MAX_QUEUED_BYTES = 32L << 20;

    private final SluiceShuffleHandle<K, ?, C> handle;
    private final int startMapIndex;
    private final int endMapIndex;
    private final int startPartition;
    private final int endPartition;
    private final TaskContext context;
    private final ShuffleReadMetricsReporter metrics;
    private final SluiceClient client;

    SluiceShuffleReader(SluiceShuffleHandle<K, ?, C> handle, int startMapIndex, int endMapIndex, int startPartition,
                        int endPartition, TaskContext context, ShuffleReadMetricsReporter metrics,
                        SluiceClient client) {
        this.handle = handle;
        this.startMapIndex = Math.max(0, startMapIndex);
        this.endMapIndex = Math.min(endMapIndex, handle.numMappers());
        this.startPartition = startPartition;
        this.endPartition = Math.min(endPartition, handle.numPartitions());
        this.context = context;
        this.metrics = metrics;
        this.client = client;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public scala.collection.Iterator<Product2<K, C>> read() {
        ShuffleDependency<K, ?, C> dependency = handle.dependency();
        int shuffleId = handle.shuffleId();

        Map<Integer, Long> winners = new HashMap<>();
        Map<Integer, Set<Integer>> nonEmptyMapsByPartition = new HashMap<>();
        scala.collection.Iterator<Tuple2<BlockManagerId, scala.collection.Seq<Tuple3<BlockId, Object, Object>>>> sizes =
                SparkEnv.get().mapOutputTracker().getMapSizesByExecutorId(
                        shuffleId, startMapIndex, endMapIndex, startPartition, endPartition);
        while (sizes.hasNext()) {
            scala.collection.Iterator<Tuple3<BlockId, Object, Object>> blocks = sizes.next()._2().iterator();
            while (blocks.hasNext()) {
                Tuple3<BlockId, Object, Object> block = blocks.next();
                if (!(block._1() instanceof ShuffleBlockId)) {
                    throw new IllegalStateException("unexpected block " + block._1() + " in Sluice shuffle " + shuffleId);
                }
                ShuffleBlockId blockId = (ShuffleBlockId) block._1();
                int mapIndex = (Integer) block._3();
                winners.put(mapIndex, blockId.mapId());
                nonEmptyMapsByPartition.computeIfAbsent(blockId.reduceId(), p -> new HashSet<>()).add(mapIndex);
            }
        }

        BatchPipe pipe = new BatchPipe(client.newReader(handle.applicationId(), shuffleId), winners,
                nonEmptyMapsByPartition);
        context.addTaskCompletionListener((TaskCompletionListener) completed -> pipe.cancel());
        pipe.start();

        scala.collection.Iterator<Product2<K, Object>> records =
                new InterruptibleIterator(context, new RecordIterator<K>(pipe, dependency.serializer().newInstance()));

        scala.collection.Iterator<Product2<K, C>> aggregated;
        if (dependency.aggregator().isDefined()) {
            Aggregator<K, Object, C> aggregator = (Aggregator<K, Object, C>) dependency.aggregator().get();
            if (dependency.mapSideCombine()) {
                aggregated = (scala.collection.Iterator) (Object) aggregator.combineCombinersByKey((scala.collection.Iterator) records, context);
            } else {
                aggregated = (scala.collection.Iterator) (Object) aggregator.combineValuesByKey((scala.collection.Iterator) records, context);
            }
        } else {
            aggregated = (scala.collection.Iterator) records;
        }

        scala.collection.Iterator<Product2<K, C>> result;
        if (dependency.keyOrdering().isDefined()) {
            Ordering<K> ordering = dependency.keyOrdering().get();
            ExternalSorter<K, C, C> sorter = SparkCompat.keySorter(context, ordering, dependency.serializer());
            result = sorter.insertAllAndUpdateMetrics((scala.collection.Iterator) aggregated);
        } else {
            result = aggregated;
        }
        if (result instanceof InterruptibleIterator) {
            return result;
        }
        return new InterruptibleIterator<>(context, result);
    }

    /** Throws a checked exception from a method that does not declare it (Spark's iterators do the same). */
    @SuppressWarnings("unchecked")
    private static <T extends Throwable> RuntimeException sneakyThrow(Throwable throwable) throws T {
        throw (T) throwable;
    }

    /** Deserializes the batches of the pipe on the task thread; updates the read metrics. */
    private final class RecordIterator<KK> extends AbstractIterator<Product2<KK, Object>> {
        private final BatchPipe pipe;
        private final SerializerInstance serializer;
        private scala.collection.Iterator<Tuple2<Object, Object>> current;
        private long wireBytesReported;
        private boolean finished;

        RecordIterator(BatchPipe pipe, SerializerInstance serializer) {
            this.pipe = pipe;
            this.serializer = serializer;
        }

        @Override
        public boolean hasNext() {
            while (current == null || !current.hasNext()) {
                if (finished) {
                    return false;
                }
                byte[] batch = nextBatch();
                if (batch == null) {
                    finished = true;
                    context.taskMetrics().mergeShuffleReadMetrics();
                    return false;
                }
                current = serializer.deserializeStream(new ByteArrayInputStream(batch)).asKeyValueIterator();
            }
            return true;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Product2<KK, Object> next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException("end of Sluice shuffle " + handle.shuffleId() + " partitions");
            }
            metrics.incRecordsRead(1);
            return (Product2<KK, Object>) (Product2<?, ?>) current.next();
        }

        /** The next non-empty batch, or null after the last one; throws what the reading thread failed with. */
        private byte[] nextBatch() {
            long waitStarted = System.nanoTime();
            byte[] batch;
            try {
                batch = pipe.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                context.killTaskIfInterrupted();
                throw new IllegalStateException("interrupted while reading Sluice shuffle " + handle.shuffleId(), e);
            } finally {
                metrics.incFetchWaitTime((System.nanoTime() - waitStarted) / 1_000_000);
                long wireBytes = pipe.wireBytesFetched();
                metrics.incRemoteBytesRead(wireBytes - wireBytesReported);
                wireBytesReported = wireBytes;
            }
            if (batch != null) {
                metrics.incRemoteBlocksFetched(1);
                return batch;
            }
            Throwable failure = pipe.failure();
            if (failure == null) {
                return null;
            }
            if (failure instanceof ReadIncompleteException || failure instanceof ReadUnavailableException) {
                // Constructed on the task thread: the exception registers itself with this task's TaskContext.
                throw sneakyThrow(new FetchFailedException(SparkCompat.sluiceLocation(handle.shuffleId()),
                        handle.shuffleId(), -1L, -1, pipe.failedPartition(), failure.getMessage(), failure));
            }
            throw sneakyThrow(failure);
        }
    }

    /**
     * The reading thread and the bounded queue of decompressed batches it fills. Empty batches (the empty last batch
     * of a map) are not queued.
     */
    private final class BatchPipe implements Runnable {
        private final PartitionReader reader;
        private final Map<Integer, Long> winners;
        private final Map<Integer, Set<Integer>> nonEmptyMapsByPartition;
        private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
        private final Thread thread;
        private long queuedBytes;
        private boolean done;
        private boolean cancelled;
        private Throwable failure;
        private volatile int currentPartition = -1;
        private volatile long wireBytesFetched;

        BatchPipe(PartitionReader reader, Map<Integer, Long> winners, Map<Integer, Set<Integer>> nonEmptyMapsByPartition) {
            this.reader = reader;
            this.winners = winners;
            this.nonEmptyMapsByPartition = nonEmptyMapsByPartition;
            this.thread = new Thread(this, "sluice-read-shuffle-" + handle.shuffleId() + "-task-" + context.taskAttemptId());
            this.thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        @Override
        public void run() {
            Throwable error = null;
            try {
                for (int partitionId = startPartition; partitionId < endPartition; partitionId++) {
                    Set<Integer> nonEmptyMaps = nonEmptyMapsByPartition.get(partitionId);
                    if (nonEmptyMaps == null) {
                        continue; // no winning map wrote to this partition
                    }
                    currentPartition = partitionId;
                    reader.read(partitionId, startMapIndex, endMapIndex, winners, nonEmptyMaps,
                            (mapIndex, attemptId, sequence, raw, offset, length) -> {
                                wireBytesFetched = reader.bytesFetched();
                                if (length > 0) {
                                    // The reader hands over a fresh array: queue it as is unless it holds more.
                                    boolean whole = offset == 0 && length == raw.length;
                                    put(whole ? raw : java.util.Arrays.copyOfRange(raw, offset, offset + length));
                                }
                            });
                    wireBytesFetched = reader.bytesFetched();
                }
            } catch (Throwable e) {
                error = e;
            }
            handle.workerTimes().addFetch(reader.fetchTimesByWorker());
            synchronized (this) {
                failure = error;
                done = true;
                notifyAll();
            }
        }

        private synchronized void put(byte[] batch) throws IOException {
            try {
                while (!cancelled && !queue.isEmpty() && queuedBytes + batch.length > MAX_QUEUED_BYTES) {
                    wait();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("Sluice read of shuffle " + handle.shuffleId() + " cancelled");
            }
            if (cancelled) {
                throw new java.io.InterruptedIOException("Sluice read of shuffle " + handle.shuffleId() + " cancelled");
            }
            queue.addLast(batch);
            queuedBytes += batch.length;
            notifyAll();
        }

        /** The next batch; null once the thread ended (then {@link #failure} tells whether it succeeded). */
        synchronized byte[] take() throws InterruptedException {
            while (queue.isEmpty() && !done) {
                wait();
            }
            byte[] batch = queue.pollFirst();
            if (batch != null) {
                queuedBytes -= batch.length;
                notifyAll();
            }
            return batch;
        }

        synchronized Throwable failure() {
            return failure;
        }

        int failedPartition() {
            return currentPartition;
        }

        long wireBytesFetched() {
            return wireBytesFetched;
        }

        /**
         * Stops the thread at its next batch (task finished, failed or killed) and drops the queue. The thread is not
         * interrupted: it may be inside a connection shared with other tasks.
         */
        synchronized void cancel() {
            cancelled = true;
            queue.clear();
            queuedBytes = 0;
            notifyAll();
        }
    }
}
