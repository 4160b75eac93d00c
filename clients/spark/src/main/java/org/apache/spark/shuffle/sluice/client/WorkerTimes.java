package org.apache.spark.shuffle.sluice.client;

import java.util.HashMap;
import java.util.Map;

/**
 * Time spent on and bytes moved through each Sluice worker by one push session or one reader, keyed by
 * {@link WorkerAddress#displayName()}. Bounded by the number of workers the shuffle was placed on. Not thread-safe:
 * its owner guards it ({@link PushTracker} under its lock, {@link PartitionReader} on its one thread).
 */
public final class WorkerTimes {
    private final Map<String, long[]> byWorker = new HashMap<>();

    /** Adds {@code nanos} of waiting on {@code worker} for {@code bytes} bytes. */
    void add(String worker, long nanos, long bytes) {
        long[] figures = byWorker.computeIfAbsent(worker, name -> new long[2]);
        figures[0] += nanos;
        figures[1] += bytes;
    }

    /** A copy: worker → {nanoseconds, bytes}. */
    public Map<String, long[]> snapshot() {
        Map<String, long[]> copy = new HashMap<>();
        for (Map.Entry<String, long[]> entry : byWorker.entrySet()) {
            copy.put(entry.getKey(), entry.getValue().clone());
        }
        return copy;
    }
}
