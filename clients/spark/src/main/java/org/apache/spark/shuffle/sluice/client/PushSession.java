package org.apache.spark.shuffle.sluice.client;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.spark.shuffle.sluice.net.Connection;
import org.apache.spark.shuffle.sluice.net.ConnectionException;
import org.apache.spark.shuffle.sluice.net.ConnectionPool;
import org.apache.spark.shuffle.sluice.protocol.Batch;
import org.apache.spark.shuffle.sluice.protocol.BatchCodec;
import org.apache.spark.shuffle.sluice.protocol.Frame;
import org.apache.spark.shuffle.sluice.protocol.Messages;
import org.apache.spark.shuffle.sluice.protocol.ProtocolException;
import org.apache.spark.shuffle.sluice.protocol.PushRequest;
import org.apache.spark.shuffle.sluice.protocol.ShuffleKey;
import org.apache.spark.shuffle.sluice.protocol.StatusCode;
import org.apache.spark.shuffle.sluice.protocol.WireWriter;

/**
 * One map task attempt's pushes. Batches for one worker are merged into multi-partition pushes of up to
 * {@code mergedPushBytes}; at most {@code maxInFlightPushesTotal} pushes await acknowledgement (and at most
 * {@code maxInFlightPushesPerWorker} requests per worker connection). Completions only record outcomes; this
 * session's own thread revives partitions and resends: {@code replicationFailed} blames the replica, any other
 * refusal or a broken connection blames the primary, {@code softSplit} revives for later batches, {@code congested}
 * waits and retries, {@code shuffleDeleted} fails the session. Each batch carries the location it was queued with and
 * is sent there (epoch, replica and primary always agree). Used from one thread.
 */
public final class PushSession implements Closeable {
    private static final byte[] EMPTY = new byte[0];

    private final ClientSettings settings;
    private final MasterClient master;
    private final ConnectionPool workers;
    private final String applicationId;
    private final int shuffleId;
    private final ShuffleKey key;
    private final int mapIndex;
    private final long attemptId;
    private final BatchCodec codec;
    private final PushTracker tracker = new PushTracker();
    /** Every push's body is encoded here; the connection has written it out before the next push reuses it. */
    private final WireWriter pushBody;
    /** Current location per partition (newest epoch this session knows). */
    private final Map<Integer, PartitionLocation> current = new HashMap<>();
    private final Map<Integer, Integer> nextSequence = new HashMap<>();
    private final BitSet lastSent = new BitSet();
    private final Map<Integer, Long> storedBytes = new HashMap<>();
    /** Batches waiting to be merged, by primary endpoint; each group holds under mergedPushBytes. */
    private final Map<String, PendingGroup> pending = new LinkedHashMap<>();
    private boolean closed;
    private boolean finished;

    /** Batches queued for one worker. */
    private static final class PendingGroup {
        final List<OutgoingBatch> batches = new ArrayList<>();
        final WorkerAddress primary;
        long bytes;

        PendingGroup(WorkerAddress primary) {
            this.primary = primary;
        }
    }

    PushSession(ClientSettings settings, MasterClient master, ConnectionPool workers, String applicationId,
                int shuffleId, LocationTable table, int mapIndex, long attemptId) {
        this.settings = settings;
        this.master = master;
        this.workers = workers;
        this.applicationId = applicationId;
        this.shuffleId = shuffleId;
        this.key = new ShuffleKey(applicationId, shuffleId);
        this.mapIndex = mapIndex;
        this.attemptId = attemptId;
        this.codec = new BatchCodec(settings.zstdLevel);
        this.pushBody = new WireWriter(settings.mergedPushBytes + (64 << 10));
        for (PartitionLocation location : table.locations()) {
            PartitionLocation known = current.get(location.partitionId);
            if (location.primary != null && (known == null || Integer.compareUnsigned(known.epoch, location.epoch) < 0)) {
                current.put(location.partitionId, location);
            }
        }
    }

    /**
     * Compresses {@code raw[offset, offset+length)} into the next batch of {@code partitionId} (sequence 0, 1, 2, ...)
     * and queues it; pushes asynchronously. Blocks while in-flight limits are reached. The caller may reuse
     * {@code raw} after the call. An empty batch is allowed.
     */
    public void addBatch(int partitionId, byte[] raw, int offset, int length, boolean last) throws IOException {
        ensureUsable();
        if (partitionId < 0) {
            throw new IllegalArgumentException("partition " + partitionId);
        }
        if (lastSent.get(partitionId)) {
            throw new IllegalStateException("partition " + partitionId + " of " + key + " map " + mapIndex
                    + " already got its last batch");
        }
        int sequence = nextSequence.getOrDefault(partitionId, 0);
        Batch batch = codec.encode(raw, offset, length, settings.codec, mapIndex, attemptId, sequence, last);
        nextSequence.put(partitionId, sequence + 1);
        if (last) {
            lastSent.set(partitionId);
        }
        storedBytes.merge(partitionId, (long) batch.header.storedLength, Long::sum);
        enqueue(new OutgoingBatch(partitionId, batch, locationOf(partitionId), 0));
        if (tracker.hasOutcomes()) {
            handleOutcomes();
        }
    }

    /**
     * Adds an empty last batch for every partition that got batches but none marked last, pushes everything queued
     * and waits until every batch is acknowledged by every copy, reviving and resending as needed. Throws if a batch
     * could not be stored within {@code maxPushRetries} resends.
     */
    public void finish() throws IOException {
        ensureUsable();
        for (Integer partitionId : new TreeMap<>(nextSequence).keySet()) {
            if (!lastSent.get(partitionId)) {
                addBatch(partitionId, EMPTY, 0, 0, true);
            }
        }
        finished = true;
        sendAllPending();
        while (true) {
            tracker.awaitQuietOrOutcome(settings.requestTimeoutMs);
            if (tracker.hasOutcomes()) {
                handleOutcomes();
                sendAllPending();
                continue;
            }
            if (tracker.inFlight() == 0 && pending.isEmpty()) {
                return;
            }
        }
    }

    /** Stored (compressed) payload bytes per partition so far, for MapStatus sizes. */
    public long[] storedBytesPerPartition(int numPartitions) {
        long[] sizes = new long[numPartitions];
        for (Map.Entry<Integer, Long> entry : storedBytes.entrySet()) {
            if (entry.getKey() < numPartitions) {
                sizes[entry.getKey()] = entry.getValue();
            }
        }
        return sizes;
    }

    /**
     * Per primary worker ({@link WorkerAddress#displayName()}): the summed time from sending a push to its answer
     * (which includes the replica's store when replicated), and the pushed request bytes. Pushes in flight together
     * overlap, so the sum can exceed the task's time.
     */
    public Map<String, long[]> pushTimesByWorker() {
        return tracker.pushTimes();
    }

    /** Batches acknowledged by every copy so far. */
    public long acknowledgedBatches() {
        return tracker.acknowledgedBatches();
    }

    /** Abandons the session: nothing more is sent and outcomes of pushes in flight are ignored. */
    @Override
    public void close() {
        closed = true;
        pending.clear();
        tracker.abandon();
    }

    private void ensureUsable() {
        if (closed) {
            throw new IllegalStateException("push session of " + key + " map " + mapIndex + " is closed");
        }
        if (finished) {
            throw new IllegalStateException("push session of " + key + " map " + mapIndex + " is finished");
        }
    }

    private PartitionLocation locationOf(int partitionId) throws ProtocolException {
        PartitionLocation location = current.get(partitionId);
        if (location == null || location.primary == null) {
            throw new ProtocolException(StatusCode.UNKNOWN_PARTITION, "no location for partition " + partitionId
                    + " of " + key);
        }
        return location;
    }

    private void enqueue(OutgoingBatch outgoing) throws IOException {
        WorkerAddress primary = outgoing.location.primary;
        String endpoint = primary.endpoint();
        PendingGroup group = pending.get(endpoint);
        int size = outgoing.batch.encodedBytes();
        if (group != null && (group.bytes + size > settings.mergedPushBytes
                || group.batches.size() >= PushRequest.MAX_ENTRIES)) {
            send(endpoint);
            group = null;
        }
        if (group == null) {
            group = new PendingGroup(primary);
            pending.put(endpoint, group);
        }
        group.batches.add(outgoing);
        group.bytes += size;
        if (group.bytes >= settings.mergedPushBytes) {
            send(endpoint);
        }
    }

    private void sendAllPending() throws IOException {
        for (String endpoint : new ArrayList<>(pending.keySet())) {
            send(endpoint);
        }
    }

    private void send(String endpoint) throws IOException {
        PendingGroup group = pending.remove(endpoint);
        if (group == null || group.batches.isEmpty()) {
            return;
        }
        List<OutgoingBatch> batches = group.batches;
        List<PushRequest.Entry> entries = new ArrayList<>(batches.size());
        for (OutgoingBatch outgoing : batches) {
            WorkerAddress replica = outgoing.location.replica;
            entries.add(new PushRequest.Entry(outgoing.partitionId, outgoing.location.epoch,
                    replica == null ? null : replica.workerId, replica == null ? null : replica.host,
                    replica == null ? 0 : replica.port, outgoing.batch));
        }
        PushRequest.encode(key, Messages.ROLE_PRIMARY, entries, pushBody);
        tracker.acquireSlot(settings.maxInFlightPushesTotal, settings.requestTimeoutMs);
        String primaryId = group.primary.workerId;
        String primaryName = group.primary.displayName();
        long bytes = pushBody.size();
        long sentNanos = System.nanoTime();
        Connection connection;
        CompletableFuture<Frame> reply;
        try {
            connection = workers.get(group.primary.host, group.primary.port);
            reply = connection.request(PushRequest.frameType(entries.size()), pushBody.buffer(), pushBody.size());
        } catch (IOException e) {
            // The primary cannot be reached: record the failure; the session thread revives away from it.
            tracker.complete(batches, blame(batches, primaryId, null), failed(batches.size(), StatusCode.IO_ERROR),
                    primaryName, System.nanoTime() - sentNanos, 0);
            return;
        }
        Connection used = connection;
        reply.whenComplete((frame, error) -> {
            long nanos = System.nanoTime() - sentNanos;
            if (error != null) {
                if (error instanceof ConnectionException || error.getCause() instanceof ConnectionException) {
                    workers.remove(used);
                }
                tracker.complete(batches, blame(batches, primaryId, null), failed(batches.size(), StatusCode.IO_ERROR),
                        primaryName, nanos, 0);
                return;
            }
            int[] statuses;
            try {
                statuses = Messages.decodePushStatuses(frame.body, batches.size());
            } catch (ProtocolException e) {
                statuses = failed(batches.size(), StatusCode.MALFORMED);
            }
            tracker.complete(batches, blame(batches, primaryId, statuses), statuses, primaryName, nanos, bytes);
        });
    }

    /**
     * Whom to avoid on revive: the replica when the primary reported replicationFailed, nobody for a hard split (a
     * full file or directory is not a failed worker; blaming it would shrink placement until revived locations
     * lose their replica), else the primary.
     */
    private static String[] blame(List<OutgoingBatch> batches, String primaryId, int[] statuses) {
        String[] suspects = new String[batches.size()];
        for (int i = 0; i < suspects.length; i++) {
            WorkerAddress replica = batches.get(i).location.replica;
            int status = statuses != null && i < statuses.length ? statuses[i] : StatusCode.IO_ERROR;
            if (status == StatusCode.HARD_SPLIT) {
                suspects[i] = "";
            } else if (status == StatusCode.REPLICATION_FAILED && replica != null) {
                suspects[i] = replica.workerId;
            } else {
                suspects[i] = primaryId;
            }
        }
        return suspects;
    }

    private static int[] failed(int count, int status) {
        int[] statuses = new int[count];
        java.util.Arrays.fill(statuses, status);
        return statuses;
    }

    /** Revives partitions whose pushes failed or passed their soft limit, and resends failed batches. */
    private void handleOutcomes() throws IOException {
        PushTracker.Outcomes outcomes = tracker.takeOutcomes();
        for (Map.Entry<Integer, Integer> split : new TreeMap<>(outcomes.softSplits).entrySet()) {
            PartitionLocation location = current.get(split.getKey());
            if (location != null && location.epoch == split.getValue()) {
                current.put(split.getKey(), master.revive(applicationId, shuffleId, split.getKey(), split.getValue(), ""));
            }
        }
        for (PushTracker.Failure failure : outcomes.failures) {
            OutgoingBatch outgoing = failure.outgoing;
            int attempts = outgoing.attempts + 1;
            if (failure.status == StatusCode.SHUFFLE_DELETED) {
                throw new ProtocolException(failure.status, "shuffle " + key + " was deleted: "
                        + outgoing.location.primary + " refused batch " + outgoing.batch.header.sequence + " of map "
                        + mapIndex + " attempt " + attemptId + " for partition " + outgoing.partitionId);
            }
            if (failure.status == StatusCode.FORBIDDEN || failure.status == StatusCode.UNAUTHENTICATED) {
                // A credential problem does not heal by retrying elsewhere: fail now, naming it.
                throw new ProtocolException(failure.status, outgoing.location.primary + " refused map " + mapIndex
                        + "'s pushes to " + key + " (" + StatusCode.name(failure.status)
                        + "): this client's credential does not allow them");
            }
            if (attempts > settings.maxPushRetries) {
                throw new ProtocolException(failure.status, "batch " + outgoing.batch.header.sequence + " of map "
                        + mapIndex + " attempt " + attemptId + " for partition " + outgoing.partitionId + " of " + key
                        + " failed " + attempts + " times; last at " + outgoing.location.primary + " epoch "
                        + outgoing.location.epoch);
            }
            if (failure.status == StatusCode.CONGESTED) {
                pause(10L << Math.min(attempts, 6));
            } else {
                PartitionLocation location = current.get(outgoing.partitionId);
                if (location != null && location.epoch == outgoing.location.epoch) {
                    current.put(outgoing.partitionId, master.revive(applicationId, shuffleId, outgoing.partitionId,
                            outgoing.location.epoch, failure.suspectWorkerId));
                }
            }
            enqueue(outgoing.retarget(locationOf(outgoing.partitionId), attempts));
        }
    }

    private static void pause(long milliseconds) throws ConnectionException {
        try {
            TimeUnit.MILLISECONDS.sleep(milliseconds);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionException("interrupted while a worker was congested", e);
        }
    }
}
