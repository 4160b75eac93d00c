package org.apache.spark.shuffle.sluice.client;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.spark.shuffle.sluice.net.Connection;
import org.apache.spark.shuffle.sluice.net.ConnectionException;
import org.apache.spark.shuffle.sluice.net.ConnectionPool;
import org.apache.spark.shuffle.sluice.protocol.Batch;
import org.apache.spark.shuffle.sluice.protocol.BatchCodec;
import org.apache.spark.shuffle.sluice.protocol.Frame;
import org.apache.spark.shuffle.sluice.protocol.Messages;
import org.apache.spark.shuffle.sluice.protocol.MessageType;
import org.apache.spark.shuffle.sluice.protocol.ProtocolException;
import org.apache.spark.shuffle.sluice.protocol.ShuffleKey;
import org.apache.spark.shuffle.sluice.protocol.StatusCode;

/**
 * Reads partitions of one shuffle. Asks the master once for every epoch's locations; reads each epoch from its
 * primary and, on any failure (connection, status, checksum), from its replica — batches already delivered from the
 * failed copy are dropped as repeats — and, when what it read is incomplete, the copies it skipped; hands over only
 * verified batches of winning attempts. An epoch that any
 * copy reports as unknownPartition holds no acknowledged data (a batch is acknowledged only once every copy stored
 * it) and counts as empty; completeness is checked at the end. Never returns short data. Used from one thread.
 */
public final class PartitionReader {
    private final ClientSettings settings;
    private final MasterClient master;
    private final ConnectionPool workers;
    private final String applicationId;
    private final int shuffleId;
    private final ShuffleKey key;
    private final BatchCodec codec;
    private Map<Integer, List<PartitionLocation>> locationsByPartition;
    private long bytesFetched;
    /** Time spent waiting for workers' answers so far (see {@link #fetchTimesByWorker}). */
    private long waitedNanos;
    private int failovers;
    /** Time this reader waited on each worker (openStream and chunk answers) and the chunk bytes it got. */
    private final WorkerTimes fetchTimes = new WorkerTimes();

    /** An exception thrown by the consumer: passed through, never treated as a copy's failure. */
    private static final class ConsumerFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ConsumerFailure(Exception cause) {
            super(cause);
        }
    }

    PartitionReader(ClientSettings settings, MasterClient master, ConnectionPool workers, String applicationId,
                    int shuffleId) {
        this.settings = settings;
        this.master = master;
        this.workers = workers;
        this.applicationId = applicationId;
        this.shuffleId = shuffleId;
        this.key = new ShuffleKey(applicationId, shuffleId);
        this.codec = new BatchCodec(settings.zstdLevel);
    }

    /** Wire bytes of fetched chunks so far. */
    public long bytesFetched() {
        return bytesFetched;
    }

    /**
     * Per worker ({@link WorkerAddress#displayName()}): the summed time this reader waited for its answers
     * (openStream, then each chunk; decoding and the consumer are not counted) and the chunk bytes it sent.
     */
    public Map<String, long[]> fetchTimesByWorker() {
        return fetchTimes.snapshot();
    }

    /** Copies that failed and were replaced by the other copy (or given up on). */
    public int failovers() {
        return failovers;
    }

    /**
     * Reads every epoch of one partition, keeping batches whose attempt is {@code winners.get(mapIndex)} for maps in
     * [startMapIndex, endMapIndex). Throws {@link ReadIncompleteException} when a winning attempt is incomplete or a
     * map in {@code nonEmptyMaps} delivered nothing, {@link ReadUnavailableException} when that happens and some epoch
     * had no readable copy (an unreadable epoch alone is not an error: it may hold only losing attempts); an exception thrown by {@code consumer} is passed through unchanged.
     */
    public void read(int partitionId, int startMapIndex, int endMapIndex, Map<Integer, Long> winners,
                     Set<Integer> nonEmptyMaps, BatchConsumer consumer) throws IOException {
        if (startMapIndex < 0 || endMapIndex < startMapIndex) {
            throw new IllegalArgumentException("map range " + startMapIndex + ".." + endMapIndex);
        }
        Map<Integer, Long> winnersInRange = new HashMap<>();
        for (Map.Entry<Integer, Long> entry : winners.entrySet()) {
            if (entry.getKey() >= startMapIndex && entry.getKey() < endMapIndex) {
                winnersInRange.put(entry.getKey(), entry.getValue());
            }
        }
        Set<Integer> nonEmptyInRange = new HashSet<>();
        for (Integer mapIndex : nonEmptyMaps) {
            if (mapIndex >= startMapIndex && mapIndex < endMapIndex) {
                nonEmptyInRange.add(mapIndex);
            }
        }
        ReadFilter filter = new ReadFilter(winnersInRange, nonEmptyInRange);
        List<String> unreadable = new ArrayList<>();
        List<SkippedCopy> skipped = new ArrayList<>();
        for (PartitionLocation location : locations(partitionId)) {
            String failure = readEpoch(location, startMapIndex, endMapIndex, filter, consumer, skipped);
            if (failure != null) {
                unreadable.add(failure);
            }
        }
        // A copy can read without error and still be short (its file lost a tail to a failed write, or a batch was
        // stored under another copy by a misrouted push): read the copies skipped so far. The filter hands over only
        // what was not kept yet, so nothing is delivered twice.
        for (SkippedCopy copy : skipped) {
            if (filter.incompleteness() == null) {
                break;
            }
            failovers++;
            try {
                readCopy(copy.location, copy.role, copy.worker, startMapIndex, endMapIndex, filter, consumer);
            } catch (ConsumerFailure e) {
                throw unwrap(e);
            } catch (IOException e) {
                unreadable.add("epoch " + copy.location.epoch + " " + roleName(copy.role) + " " + copy.worker + ": "
                        + e.getMessage());
            }
        }
        // An epoch no copy of which can be read is fatal only if it held winning data: after a map stage rerun the
        // new attempts write to revived epochs and a dead worker's old epoch holds only losers. The completeness
        // check over the winners decides exactly.
        String missing = filter.incompleteness();
        if (missing == null) {
            return;
        }
        String detail = "partition " + partitionId + " of shuffle " + key + " (maps " + startMapIndex + ".."
                + endMapIndex + ", epochs " + describe(locations(partitionId)) + "): " + missing;
        if (!unreadable.isEmpty()) {
            throw new ReadUnavailableException(detail + "; unreadable: " + String.join(" | ", unreadable));
        }
        throw new ReadIncompleteException(detail);
    }

    private static String describe(List<PartitionLocation> locations) {
        List<String> parts = new ArrayList<>();
        for (PartitionLocation location : locations) {
            parts.add(location.epoch + " on " + location.primary + "/" + location.replica);
        }
        return parts.toString();
    }

    private List<PartitionLocation> locations(int partitionId) throws IOException {
        if (locationsByPartition == null) {
            List<PartitionLocation> all;
            try {
                all = master.getLocations(applicationId, shuffleId);
            } catch (IOException e) {
                throw new ReadUnavailableException("locations of shuffle " + key + ": " + e.getMessage(), e);
            }
            Map<Integer, List<PartitionLocation>> grouped = new HashMap<>();
            for (PartitionLocation location : all) {
                grouped.computeIfAbsent(location.partitionId, id -> new ArrayList<>()).add(location);
            }
            for (List<PartitionLocation> epochs : grouped.values()) {
                epochs.sort(Comparator.comparingLong(location -> location.epoch & 0xFFFFFFFFL));
            }
            locationsByPartition = grouped;
        }
        return locationsByPartition.getOrDefault(partitionId, List.of());
    }

    /** A copy not read because the other copy of its epoch read without error. */
    private record SkippedCopy(PartitionLocation location, int role, WorkerAddress worker) {
    }

    /** The consumer's own exception, as it threw it. */
    private static IOException unwrap(ConsumerFailure failure) {
        Throwable cause = failure.getCause();
        if (cause instanceof IOException) {
            return (IOException) cause;
        }
        throw (RuntimeException) cause;
    }

    /**
     * Reads one epoch from its first readable copy, adding the copies after it to {@code skipped}; returns null, or
     * what every copy answered when none could be read.
     */
    private String readEpoch(PartitionLocation location, int startMapIndex, int endMapIndex, ReadFilter filter,
                             BatchConsumer consumer, List<SkippedCopy> skipped) throws IOException {
        List<String> failures = new ArrayList<>();
        int missingCopies = 0;
        WorkerAddress[] copies = {location.primary, location.replica};
        for (int role = 0; role < copies.length; role++) {
            WorkerAddress worker = copies[role];
            if (worker == null) {
                continue;
            }
            try {
                readCopy(location, role, worker, startMapIndex, endMapIndex, filter, consumer);
                for (int other = role + 1; other < copies.length; other++) {
                    if (copies[other] != null) {
                        skipped.add(new SkippedCopy(location, other, copies[other]));
                    }
                }
                return null;
            } catch (ConsumerFailure e) {
                throw unwrap(e);
            } catch (ProtocolException e) {
                if (e.status() == StatusCode.UNKNOWN_PARTITION) {
                    missingCopies++;
                }
                failures.add(roleName(role) + " " + worker + ": " + e.getMessage());
            } catch (IOException e) {
                failures.add(roleName(role) + " " + worker + ": " + e.getMessage());
            }
            failovers++;
        }
        // A copy without the file proves the epoch holds no acknowledged data (every copy stores before the ack).
        if (missingCopies == 0) {
            return "epoch " + location.epoch + ": " + String.join("; ", failures);
        }
        return null;
    }

    private static String roleName(int role) {
        return role == Messages.ROLE_PRIMARY ? "primary" : "replica";
    }

    private void readCopy(PartitionLocation location, int role, WorkerAddress worker, int startMapIndex,
                          int endMapIndex, ReadFilter filter, BatchConsumer consumer) throws IOException {
        Connection connection = workers.get(worker.host, worker.port);
        long waitedBefore = waitedNanos;
        long bytesBefore = bytesFetched;
        long openedAt = System.nanoTime();
        try {
            String what = "openStream of partition " + location.partitionId + " epoch " + location.epoch + " ("
                    + roleName(role) + ") of " + key;
            Frame openReply;
            try {
                openReply = connection.call(MessageType.OPEN_STREAM, Messages.openStream(key, location.partitionId,
                        location.epoch, role, startMapIndex,
                        endMapIndex == Integer.MAX_VALUE ? Messages.ALL_MAPS_END : endMapIndex,
                        Messages.ALL_CODECS_MASK));
            } finally {
                waitedNanos += System.nanoTime() - openedAt; // a timed-out or failed answer counts too
            }
            Messages.OpenStreamResponse opened = Messages.decodeOpenStream(openReply.body);
            opened.head.requireOk(what);
            try {
                fetchChunks(connection, opened, startMapIndex, endMapIndex, filter, consumer);
            } finally {
                closeStream(connection, opened.streamId);
            }
        } catch (ConnectionException e) {
            workers.remove(connection);
            throw e;
        } finally {
            fetchTimes.add(worker.displayName(), waitedNanos - waitedBefore, bytesFetched - bytesBefore);
        }
    }

    private void fetchChunks(Connection connection, Messages.OpenStreamResponse opened, int startMapIndex,
                             int endMapIndex, ReadFilter filter, BatchConsumer consumer) throws IOException {
        ArrayDeque<CompletableFuture<Frame>> window = new ArrayDeque<>(settings.fetchWindowChunks);
        int nextChunk = 0;
        for (int chunk = 0; chunk < opened.chunkCount; chunk++) {
            while (nextChunk < opened.chunkCount && window.size() < settings.fetchWindowChunks) {
                window.add(connection.request(MessageType.FETCH_CHUNK, Messages.fetchChunk(opened.streamId, nextChunk)));
                nextChunk++;
            }
            long awaitedAt = System.nanoTime();
            Frame frame;
            try {
                frame = Connection.await(window.poll(), connection.endpoint());
            } finally {
                waitedNanos += System.nanoTime() - awaitedAt;
            }
            bytesFetched += frame.body.length;
            Messages.ChunkResponse response = Messages.decodeFetchChunk(frame.body);
            response.head.requireOk("fetchChunk " + chunk + " of stream " + opened.streamId + " at "
                    + connection.endpoint());
            for (Batch batch : BatchCodec.splitBatches(response.body, response.dataOffset, response.dataLength)) {
                int mapIndex = batch.header.mapIndex;
                if (mapIndex < startMapIndex || mapIndex >= endMapIndex) {
                    continue;
                }
                BatchCodec.verify(batch);
                if (!filter.wants(batch.header)) {
                    filter.accept(batch.header);
                    continue;
                }
                byte[] raw = codec.decodeVerified(batch);
                filter.accept(batch.header);
                try {
                    consumer.accept(mapIndex, batch.header.attemptId, batch.header.sequence, raw, 0, raw.length);
                } catch (IOException | RuntimeException e) {
                    throw new ConsumerFailure(e);
                }
            }
        }
    }

    /**
     * Closes a stream, not waiting for the answer: the worker also closes every stream with its connection, so a
     * failed close leaves nothing behind that matters to this reader.
     */
    private static void closeStream(Connection connection, long streamId) {
        if (!connection.isOpen()) {
            return;
        }
        try {
            connection.request(MessageType.CLOSE_STREAM, Messages.closeStream(streamId));
        } catch (ConnectionException e) {
            // The connection broke meanwhile: its streams are closed with it (docs/protocol.md).
            return;
        }
    }
}
