package org.apache.spark.shuffle.sluice.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import java.util.zip.CRC32C;
import org.apache.spark.shuffle.sluice.net.Connection;
import org.apache.spark.shuffle.sluice.net.ConnectionSettings;
import org.apache.spark.shuffle.sluice.protocol.Batch;
import org.apache.spark.shuffle.sluice.protocol.BatchCodec;
import org.apache.spark.shuffle.sluice.protocol.Messages;
import org.apache.spark.shuffle.sluice.protocol.ProtocolException;
import org.apache.spark.shuffle.sluice.protocol.PushRequest;
import org.apache.spark.shuffle.sluice.protocol.ShuffleKey;
import org.apache.spark.shuffle.sluice.protocol.StatusCode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded worker-loss runs of the Java client against the Swift servers: three workers, replication on, one worker
 * killed (SIGKILL) at a seeded point of a six-map push or of the read that follows. Every session must finish and
 * every (map, partition) pair must read back with its length and CRC32C. Replay one seed with
 * {@code SLUICE_KILL_SEED=N}; {@code SLUICE_KILL_SEEDS=K} runs seeds 1..K (default 20). Also: a short primary copy
 * with a whole replica, and a push to a deleted shuffle.
 */
class WorkerLossInteropTest {
    private static final int MAPS = 6;
    private static final int PARTITIONS = 8;
    private static final int BATCHES_PER_MAP = 300;
    private static final byte[] POOL = randomPool();

    static LongStream seeds() {
        String one = System.getenv("SLUICE_KILL_SEED");
        if (one != null) {
            return LongStream.of(Long.parseLong(one));
        }
        String count = System.getenv("SLUICE_KILL_SEEDS");
        return LongStream.rangeClosed(1, count == null ? 20 : Long.parseLong(count));
    }

    private static byte[] randomPool() {
        byte[] pool = new byte[1 << 20];
        new Random(0x5EED).nextBytes(pool);
        return pool;
    }

    /** One batch a map pushes: its partition and bytes (a slice of the random pool). */
    private record PlannedBatch(int partition, int offset, int length) {
    }

    private static List<PlannedBatch> plan(long seed, int map) {
        Random random = new Random(seed * 1_000_003L + map);
        List<PlannedBatch> batches = new ArrayList<>();
        for (int i = 0; i < BATCHES_PER_MAP; i++) {
            int length = 1 + random.nextInt(8192);
            batches.add(new PlannedBatch(random.nextInt(PARTITIONS), random.nextInt(POOL.length - length), length));
        }
        return batches;
    }

    private static long attemptId(int map) {
        return 7_000 + map;
    }

    /** Length and CRC32C of a (map, partition) pair's bytes in batch order, as "LENGTH/CRC". */
    private static Map<String, String> expected(long seed) {
        Map<String, CRC32C> crcs = new HashMap<>();
        Map<String, Long> lengths = new HashMap<>();
        for (int map = 0; map < MAPS; map++) {
            for (PlannedBatch batch : plan(seed, map)) {
                String pair = map + "/" + batch.partition;
                crcs.computeIfAbsent(pair, k -> new CRC32C()).update(POOL, batch.offset, batch.length);
                lengths.merge(pair, (long) batch.length, Long::sum);
            }
        }
        Map<String, String> result = new TreeMap<>();
        crcs.forEach((pair, crc) -> result.put(pair, lengths.get(pair) + "/" + crc.getValue()));
        return result;
    }

    private static SwiftCluster startCluster() throws Exception {
        Path binDir = SwiftCluster.defaultBinDir();
        Assumptions.assumeTrue(SwiftCluster.available(binDir), "Swift servers not built at " + binDir);
        SwiftCluster cluster = new SwiftCluster(binDir);
        try {
            cluster.startMaster("--worker-heartbeat-interval", "200ms");
            for (int index = 0; index < 3; index++) {
                cluster.startWorker(index);
            }
            try (SluiceClient probe = client(cluster)) {
                awaitWorkers(probe, 3);
            }
            return cluster;
        } catch (Exception | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    private static SluiceClient client(SwiftCluster cluster) {
        ClientSettings settings = new ClientSettings();
        settings.masterPort = cluster.masterPort;
        settings.requestTimeoutMs = 10_000;
        settings.connectTimeoutMs = 5_000;
        // Few pushes in flight and small merged pushes: the kill lands between enqueue and send.
        settings.maxInFlightPushesTotal = 2;
        settings.mergedPushBytes = 64 << 10;
        return new SluiceClient(settings, "java-worker-loss");
    }

    /** Registers throw-away shuffles until the master places primaries on {@code count} workers. */
    private static void awaitWorkers(SluiceClient client, int count) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        for (int probe = 1; System.currentTimeMillis() < deadline; probe++) {
            Set<String> named = new HashSet<>();
            for (PartitionLocation location : client.master().registerShuffle("probe", probe, 1, count * 4, false)
                    .locations()) {
                named.add(location.primary.workerId);
            }
            client.master().unregisterShuffle("probe", probe);
            if (named.size() == count) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the master never placed partitions on " + count + " workers");
    }

    /** Pushes every map on two threads; {@code onBatch} gets the running count of batches added by all maps. */
    private static Map<Integer, Set<Integer>> pushAll(SluiceClient client, String app, LocationTable table, long seed,
                                                      java.util.function.IntConsumer onBatch) throws Exception {
        AtomicInteger added = new AtomicInteger();
        Map<Integer, Set<Integer>> nonEmpty = new HashMap<>();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Future<long[]>> results = new ArrayList<>();
            for (int map = 0; map < MAPS; map++) {
                int mapIndex = map;
                results.add(threads.submit(() -> {
                    try (PushSession session = client.newPushSession(app, 0, table, mapIndex, attemptId(mapIndex))) {
                        for (PlannedBatch batch : plan(seed, mapIndex)) {
                            session.addBatch(batch.partition, POOL, batch.offset, batch.length, false);
                            onBatch.accept(added.incrementAndGet());
                        }
                        session.finish();
                        return session.storedBytesPerPartition(PARTITIONS);
                    }
                }));
            }
            for (int map = 0; map < MAPS; map++) {
                long[] stored = results.get(map).get();
                for (int partition = 0; partition < PARTITIONS; partition++) {
                    if (stored[partition] > 0) {
                        nonEmpty.computeIfAbsent(partition, p -> new HashSet<>()).add(map);
                    }
                }
            }
        } finally {
            threads.shutdownNow();
        }
        return nonEmpty;
    }

    /** Reads every partition; returns "LENGTH/CRC" per (map, partition) pair that delivered bytes. */
    private static Map<String, String> readAll(PartitionReader reader, Map<Integer, Set<Integer>> nonEmpty,
                                               java.util.function.IntConsumer onBatch) throws IOException {
        Map<Integer, Long> winners = new HashMap<>();
        for (int map = 0; map < MAPS; map++) {
            winners.put(map, attemptId(map));
        }
        int[] consumed = {0};
        Map<String, String> got = new TreeMap<>();
        for (int partition = 0; partition < PARTITIONS; partition++) {
            Map<Integer, TreeMap<Integer, byte[]>> batches = new HashMap<>();
            reader.read(partition, 0, MAPS, winners, nonEmpty.getOrDefault(partition, Set.of()),
                    (mapIndex, attemptId, sequence, raw, offset, length) -> {
                        byte[] copy = java.util.Arrays.copyOfRange(raw, offset, offset + length);
                        assertEquals(null, batches.computeIfAbsent(mapIndex, m -> new TreeMap<>()).put(sequence, copy),
                                "batch delivered twice");
                        onBatch.accept(++consumed[0]);
                    });
            for (Map.Entry<Integer, TreeMap<Integer, byte[]>> map : batches.entrySet()) {
                CRC32C crc = new CRC32C();
                long length = 0;
                for (byte[] bytes : map.getValue().values()) {
                    crc.update(bytes);
                    length += bytes.length;
                }
                if (length > 0) {
                    got.put(map.getKey() + "/" + partition, length + "/" + crc.getValue());
                }
            }
        }
        return got;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void workerKilledDuringPushLosesNothing(long seed) throws Exception {
        try (SwiftCluster cluster = startCluster(); SluiceClient client = client(cluster)) {
            Random random = new Random(seed);
            int victim = random.nextInt(3);
            int total = MAPS * BATCHES_PER_MAP;
            int killAt = total / 20 + random.nextInt(total * 9 / 10 - total / 20);
            String app = "java-loss-push-" + seed;
            LocationTable table = client.master().registerShuffle(app, 0, MAPS, PARTITIONS, true);
            AtomicBoolean killed = new AtomicBoolean();
            Map<Integer, Set<Integer>> nonEmpty = pushAll(client, app, table, seed, added -> {
                if (added == killAt) {
                    try {
                        cluster.killWorker(victim);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    killed.set(true);
                }
            });
            assertTrue(killed.get(), "seed " + seed + ": the kill point was never reached");
            try (SluiceClient readerClient = client(cluster)) {
                assertEquals(expected(seed), readAll(readerClient.newReader(app, 0), nonEmpty, consumed -> { }),
                        "seed " + seed + ", worker " + victim + " killed after " + killAt + " batches");
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void primaryKilledDuringFetchLosesNothing(long seed) throws Exception {
        try (SwiftCluster cluster = startCluster(); SluiceClient client = client(cluster)) {
            String app = "java-loss-fetch-" + seed;
            LocationTable table = client.master().registerShuffle(app, 0, MAPS, PARTITIONS, true);
            Map<Integer, Set<Integer>> nonEmpty = pushAll(client, app, table, seed, added -> { });
            // The victim is the primary of the last partition, so the read meets a dead primary after the kill.
            PartitionLocation last = table.locations().stream().filter(l -> l.partitionId == PARTITIONS - 1)
                    .findFirst().orElseThrow();
            int victim = cluster.workerIndexOfPort(last.primary.port);
            assertTrue(victim >= 0, "the last partition's primary is one of the three workers");
            int killAt = 1 + new Random(seed).nextInt(MAPS * BATCHES_PER_MAP * 3 / 4);
            PartitionReader reader = client.newReader(app, 0);
            boolean[] killed = {false};
            Map<String, String> got = readAll(reader, nonEmpty, consumed -> {
                if (consumed == killAt) {
                    try {
                        cluster.killWorker(victim);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    killed[0] = true;
                }
            });
            assertTrue(killed[0], "seed " + seed + ": the kill point was never reached");
            assertEquals(expected(seed), got, "seed " + seed + ", worker " + victim + " killed after " + killAt);
            assertTrue(reader.failovers() > 0, "the last partition's primary was dead, so its replica was read");
        }
    }

    @Test
    void shortPrimaryCopyWithWholeReplicaReadsTheReplica() throws Exception {
        try (SwiftCluster cluster = startCluster(); SluiceClient client = client(cluster)) {
            String app = "java-short-primary";
            PartitionLocation location = client.master().registerShuffle(app, 0, 1, 1, true).locations().get(0);
            BatchCodec codec = new BatchCodec(1);
            Batch first = codec.encode(POOL, 0, 100, Codec.NONE, 0, 1, 0, false);
            Batch last = codec.encode(POOL, 100, 50, Codec.NONE, 0, 1, 1, true);
            // Sequence 0 on both copies, sequence 1 (the last) only on the replica: the primary is readable and short.
            assertEquals(StatusCode.OK, push(app, location, location.primary, Messages.ROLE_PRIMARY, first));
            assertEquals(StatusCode.OK, push(app, location, location.replica, Messages.ROLE_REPLICA, last));
            PartitionReader reader = client.newReader(app, 0);
            List<Integer> sequences = new ArrayList<>();
            List<byte[]> bytes = new ArrayList<>();
            reader.read(0, 0, 1, Map.of(0, 1L), Set.of(0), (mapIndex, attemptId, sequence, raw, offset, length) -> {
                sequences.add(sequence);
                bytes.add(java.util.Arrays.copyOfRange(raw, offset, offset + length));
            });
            assertEquals(List.of(0, 1), sequences.stream().sorted().toList(), "each batch exactly once");
            assertArrayEquals(java.util.Arrays.copyOfRange(POOL, 0, 100), bytes.get(sequences.indexOf(0)));
            assertEquals(1, reader.failovers());
        }
    }

    @Test
    void pushToADeletedShuffleEndsTheSessionWithItsStatus() throws Exception {
        try (SwiftCluster cluster = startCluster(); SluiceClient client = client(cluster)) {
            String app = "java-deleted";
            LocationTable table = client.master().registerShuffle(app, 0, 1, 2, true);
            PartitionLocation location = table.locations().get(0);
            client.master().unregisterShuffle(app, 0);
            Batch batch = new BatchCodec(1).encode(POOL, 0, 10, Codec.NONE, 0, 1, 0, true);
            long deadline = System.currentTimeMillis() + 20_000;
            while (push(app, location, location.primary, Messages.ROLE_PRIMARY, batch) != StatusCode.SHUFFLE_DELETED) {
                assertTrue(System.currentTimeMillis() < deadline, "workers never learned of the deletion");
                Thread.sleep(50);
            }
            try (PushSession session = client.newPushSession(app, 0, table, 0, 1)) {
                session.addBatch(0, POOL, 0, 10, true);
                ProtocolException refused = assertThrows(ProtocolException.class, session::finish);
                assertEquals(StatusCode.SHUFFLE_DELETED, refused.status(), refused.getMessage());
            }
        }
    }

    /** One raw push of {@code batch} to {@code worker} as {@code role}; a primary push names the location's replica. */
    private static int push(String app, PartitionLocation location, WorkerAddress worker, int role, Batch batch)
            throws IOException {
        WorkerAddress replica = role == Messages.ROLE_PRIMARY ? location.replica : null;
        List<PushRequest.Entry> entries = List.of(new PushRequest.Entry(location.partitionId, location.epoch,
                replica == null ? null : replica.workerId, replica == null ? null : replica.host,
                replica == null ? 0 : replica.port, batch));
        try (Connection connection = Connection.open(worker.host, worker.port,
                new ConnectionSettings(5_000, 30_000, 4, 1 << 20), "raw-push")) {
            byte[] body = PushRequest.encode(new ShuffleKey(app, 0), role, entries);
            return Messages.decodePushStatuses(connection.call(PushRequest.frameType(1), body).body, 1)[0];
        }
    }
}
