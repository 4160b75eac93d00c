package org.apache.spark.shuffle.sluice;

import java.io.Serializable;

/**
 * One worker's figures for one shuffle: the time writers spent from sending a push to its answer and the bytes they
 * pushed; the time readers waited for its answers and the bytes they fetched.
 */
public record WorkerFigures(long pushNanos, long pushBytes, long fetchNanos, long fetchBytes) implements Serializable {
    /** No time, no bytes. */
    public static final WorkerFigures ZERO = new WorkerFigures(0, 0, 0, 0);

    /** Both sides summed. */
    public WorkerFigures plus(WorkerFigures other) {
        return new WorkerFigures(pushNanos + other.pushNanos, pushBytes + other.pushBytes,
                fetchNanos + other.fetchNanos, fetchBytes + other.fetchBytes);
    }

    /** What was added since {@code earlier}. */
    public WorkerFigures minus(WorkerFigures earlier) {
        return new WorkerFigures(pushNanos - earlier.pushNanos, pushBytes - earlier.pushBytes,
                fetchNanos - earlier.fetchNanos, fetchBytes - earlier.fetchBytes);
    }

    /** One side of these figures (push when {@code push}, else fetch) with the other side of {@code other}. */
    public WorkerFigures side(boolean push, WorkerFigures other) {
        return push ? new WorkerFigures(pushNanos, pushBytes, other.fetchNanos, other.fetchBytes)
                : new WorkerFigures(other.pushNanos, other.pushBytes, fetchNanos, fetchBytes);
    }

    /** Nanoseconds of one side: push when {@code push}, else fetch. */
    public long nanos(boolean push) {
        return push ? pushNanos : fetchNanos;
    }

    /** Bytes of one side: push when {@code push}, else fetch. */
    public long bytes(boolean push) {
        return push ? pushBytes : fetchBytes;
    }
}
