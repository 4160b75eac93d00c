package org.apache.spark.shuffle.sluice.client;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.spark.shuffle.sluice.net.ConnectionException;
import org.apache.spark.shuffle.sluice.protocol.StatusCode;

/**
 * Tracks one push session's pushes in flight. Completions (on connection threads) only record outcomes here; every
 * revive and resend happens on the session's own thread, so a completion never blocks a connection.
 */
final class PushTracker {
    /** A batch a worker did not acknowledge, to be revived and resent by the session thread. */
    static final class Failure {
        final OutgoingBatch outgoing;
        /** Worker to avoid when reviving: the replica on replicationFailed, otherwise the primary. */
        final String suspectWorkerId;
        final int status;

        Failure(OutgoingBatch outgoing, String suspectWorkerId, int status) {
            this.outgoing = outgoing;
            this.suspectWorkerId = suspectWorkerId;
            this.status = status;
        }
    }

    /** What the session must act on: failed batches and partitions whose epoch passed its soft limit. */
    static final class Outcomes {
        final List<Failure> failures;
        /** partition id → epoch that answered softSplit. */
        final Map<Integer, Integer> softSplits;

        Outcomes(List<Failure> failures, Map<Integer, Integer> softSplits) {
            this.failures = failures;
            this.softSplits = softSplits;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int inFlight;
    private List<Failure> failures = new ArrayList<>();
    private Map<Integer, Integer> softSplits = new HashMap<>();
    private long acknowledgedBatches;
    private boolean abandoned;
    /** Send-to-answer time and pushed bytes per primary worker. */
    private final WorkerTimes pushTimes = new WorkerTimes();

    /** Waits until fewer than {@code limit} pushes are in flight, then takes a slot. */
    void acquireSlot(int limit, long timeoutMs) throws IOException {
        lock.lock();
        try {
            long remainingNs = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (inFlight >= limit) {
                if (remainingNs <= 0) {
                    throw new ConnectionException("no push slot freed within " + timeoutMs + " ms (" + inFlight
                            + " pushes in flight)");
                }
                remainingNs = changed.awaitNanos(remainingNs);
            }
            inFlight++;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionException("interrupted waiting for a push slot", e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Records the answer to one push and frees its slot. {@code suspects[i]} is the worker to blame if batch
     * {@code i} failed. {@code worker} waited {@code nanos} from send to answer for the push's {@code bytes}.
     */
    void complete(List<OutgoingBatch> batches, String[] suspects, int[] statuses, String worker, long nanos,
                  long bytes) {
        lock.lock();
        try {
            inFlight--;
            pushTimes.add(worker, nanos, bytes);
            if (!abandoned) {
                for (int i = 0; i < batches.size(); i++) {
                    OutgoingBatch outgoing = batches.get(i);
                    int status = i < statuses.length ? statuses[i] : StatusCode.INTERNAL_ERROR;
                    if (StatusCode.isStored(status)) {
                        acknowledgedBatches++;
                        if (status == StatusCode.SOFT_SPLIT) {
                            softSplits.put(outgoing.partitionId, outgoing.location.epoch);
                        }
                    } else {
                        failures.add(new Failure(outgoing, suspects[i], status));
                    }
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Takes every recorded failure and soft split. */
    Outcomes takeOutcomes() {
        lock.lock();
        try {
            Outcomes outcomes = new Outcomes(failures, softSplits);
            failures = new ArrayList<>();
            softSplits = new HashMap<>();
            return outcomes;
        } finally {
            lock.unlock();
        }
    }

    boolean hasOutcomes() {
        lock.lock();
        try {
            return !failures.isEmpty() || !softSplits.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    int inFlight() {
        lock.lock();
        try {
            return inFlight;
        } finally {
            lock.unlock();
        }
    }

    /** worker → {send-to-answer nanoseconds, pushed bytes} so far. */
    java.util.Map<String, long[]> pushTimes() {
        lock.lock();
        try {
            return pushTimes.snapshot();
        } finally {
            lock.unlock();
        }
    }

    long acknowledgedBatches() {
        lock.lock();
        try {
            return acknowledgedBatches;
        } finally {
            lock.unlock();
        }
    }

    /** Waits up to {@code timeoutMs} until nothing is in flight or an outcome needs the session's attention. */
    void awaitQuietOrOutcome(long timeoutMs) throws IOException {
        lock.lock();
        try {
            long remainingNs = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (inFlight > 0 && failures.isEmpty() && softSplits.isEmpty() && remainingNs > 0) {
                remainingNs = changed.awaitNanos(remainingNs);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionException("interrupted waiting for push acknowledgements", e);
        } finally {
            lock.unlock();
        }
    }

    /** Ignores every later outcome (the session was abandoned). */
    void abandon() {
        lock.lock();
        try {
            abandoned = true;
            failures.clear();
            softSplits.clear();
        } finally {
            lock.unlock();
        }
    }
}
