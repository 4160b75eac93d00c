package org.apache.spark.shuffle.sluice;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.util.AccumulatorV2;

/**
 * Per-worker push and fetch figures of one shuffle ({@link WorkerFigures}), summed over tasks. The driver creates and
 * registers one per Sluice shuffle in {@code registerShuffle} and ships it inside the {@link SluiceShuffleHandle};
 * Spark registers the deserialized copy with each task that reads the handle (map tasks and reduce tasks), sends the
 * task's figures back with the task's result, and merges them into the driver's instance, where
 * {@link SlowestWorkerListener} reads them. One entry per worker, so its size is bounded by the workers the shuffle
 * was placed on. Thread-safe: a reader's fetching thread may add while the task's result is serialized.
 */
public final class WorkerTimesAccumulator
        extends AccumulatorV2<Map<String, WorkerFigures>, Map<String, WorkerFigures>> {
    private static final long serialVersionUID = 1L;

    private TreeMap<String, WorkerFigures> figures = new TreeMap<>();

    @Override
    public synchronized boolean isZero() {
        return figures.isEmpty();
    }

    @Override
    public synchronized WorkerTimesAccumulator copy() {
        WorkerTimesAccumulator copy = new WorkerTimesAccumulator();
        copy.figures = new TreeMap<>(figures);
        return copy;
    }

    @Override
    public synchronized void reset() {
        figures = new TreeMap<>();
    }

    /** Adds figures per worker. */
    @Override
    public synchronized void add(Map<String, WorkerFigures> byWorker) {
        for (Map.Entry<String, WorkerFigures> entry : byWorker.entrySet()) {
            figures.merge(entry.getKey(), entry.getValue(), WorkerFigures::plus);
        }
    }

    /** Adds a push session's worker → {nanoseconds, bytes}. */
    public void addPush(Map<String, long[]> byWorker) {
        add(convert(byWorker, true));
    }

    /** Adds a reader's worker → {nanoseconds, bytes}. */
    public void addFetch(Map<String, long[]> byWorker) {
        add(convert(byWorker, false));
    }

    private static Map<String, WorkerFigures> convert(Map<String, long[]> byWorker, boolean push) {
        Map<String, WorkerFigures> converted = new TreeMap<>();
        for (Map.Entry<String, long[]> entry : byWorker.entrySet()) {
            long nanos = entry.getValue()[0];
            long bytes = entry.getValue()[1];
            converted.put(entry.getKey(), new WorkerFigures(nanos, bytes, nanos, bytes).side(push, WorkerFigures.ZERO));
        }
        return converted;
    }

    @Override
    public void merge(AccumulatorV2<Map<String, WorkerFigures>, Map<String, WorkerFigures>> other) {
        if (!(other instanceof WorkerTimesAccumulator)) {
            throw new UnsupportedOperationException("cannot merge " + getClass().getSimpleName() + " with "
                    + other.getClass().getName());
        }
        add(other.value());
    }

    /** A sorted, unmodifiable copy: worker → figures. */
    @Override
    public synchronized Map<String, WorkerFigures> value() {
        return Collections.unmodifiableMap(new TreeMap<>(figures));
    }

    /** Serializes under the lock, so a late add from a reader's thread cannot interleave. */
    private synchronized void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
    }
}
