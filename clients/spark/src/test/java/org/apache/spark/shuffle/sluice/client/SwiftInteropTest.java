package org.apache.spark.shuffle.sluice.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.shuffle.sluice.net.Connection;
import org.apache.spark.shuffle.sluice.net.ConnectionSettings;
import org.apache.spark.shuffle.sluice.protocol.Batch;
import org.apache.spark.shuffle.sluice.protocol.BatchCodec;
import org.apache.spark.shuffle.sluice.protocol.Messages;
import org.apache.spark.shuffle.sluice.protocol.PushRequest;
import org.apache.spark.shuffle.sluice.protocol.ShuffleKey;
import org.apache.spark.shuffle.sluice.protocol.StatusCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Java client against the Swift master and two workers: pushes of every codec and size, byte-exact reads,
 * losing attempts, duplicates, gaps, then reads from replicas after a worker is killed. Skips when the Swift
 * executables were not built (run {@code swift build}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SwiftInteropTest {
    private static final String APP = "java-interop";
    private static final int MAPS = 8;
    private static final int PARTITIONS = 50;
    private static final int SHUFFLE = 1;
    private static final long LOSER_ATTEMPT = 9_000;

    private SwiftCluster cluster;
    private SluiceClient client;
    private LocationTable table;
    /** partition → map → batches in sequence order. */
    private final Map<Integer, Map<Integer, List<byte[]>>> expected = new TreeMap<>();
    private final Map<Integer, Long> winners = new HashMap<>();
    /** partition → maps whose stored bytes are non-zero. */
    private final Map<Integer, Set<Integer>> nonEmpty = new HashMap<>();

    @BeforeAll
    void startCluster() throws Exception {
        Path binDir = SwiftCluster.defaultBinDir();
        Assumptions.assumeTrue(SwiftCluster.available(binDir),
                "Swift servers not built at " + binDir + " (run `swift build`): interop test skipped");
        cluster = new SwiftCluster(binDir);
        try {
            cluster.startMaster();
            cluster.startWorker(0);
            cluster.startWorker(1);
            ClientSettings settings = new ClientSettings();
            settings.masterPort = cluster.masterPort;
            settings.requestTimeoutMs = 30_000;
            settings.connectTimeoutMs = 5_000;
            settings.maxInFlightPushesTotal = 16;
            settings.mergedPushBytes = 256 << 10;
            client = new SluiceClient(settings, "java-interop-test");
            SwiftCluster.awaitTwoWorkers(client);
        } catch (Exception | AssertionError e) {
            stopCluster();
            throw e;
        }
    }

    @AfterAll
    void stopCluster() throws IOException {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Deterministic content: a mix of text (compressible) and noise. */
    private static byte[] content(int map, int partition, int sequence, int length, long salt) {
        byte[] data = new byte[length];
        Random random = new Random(salt * 1_000_003L + map * 10_007L + partition * 101L + sequence);
        byte[] text = ("map " + map + " partition " + partition + " sequence " + sequence + " | ")
                .getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < length; i++) {
            data[i] = (i / 4096) % 3 == 2 ? (byte) random.nextInt() : text[i % text.length];
        }
        return data;
    }

    /** Batch sizes for (map, partition): empty lists, zero-byte batches, small ones and a few 2 MiB ones. */
    private static int[] sizes(int map, int partition) {
        Random random = new Random(map * 31L + partition);
        int kind = (map + partition) % 7;
        if (kind == 0) {
            return new int[0];                          // this map writes nothing to this partition
        }
        if (kind == 1) {
            return new int[] {0};                       // only an empty batch
        }
        int count = 1 + random.nextInt(3);
        int[] sizes = new int[count];
        for (int i = 0; i < count; i++) {
            sizes[i] = random.nextInt(20_000);
        }
        if (partition % 17 == 3 && map % 4 == 1) {
            sizes[0] = 2 << 20;                         // 2 MiB
        }
        return sizes;
    }

    @Test
    @Order(1)
    void pushesFromEightSessions() throws Exception {
        table = client.master().registerShuffle(APP, SHUFFLE, MAPS, PARTITIONS, true);
        assertEquals(PARTITIONS, table.locations().size());
        byte[] codecs = {Codec.NONE, Codec.LZ4, Codec.ZSTD};
        for (int map = 0; map < MAPS; map++) {
            long attempt = 100 + map;
            winners.put(map, attempt);
            // The session's codec comes from its client's settings: one client per codec mixes them.
            try (SluiceClient codecClient = codecClient(codecs[map % 3]);
                 PushSession mixed = codecClient.newPushSession(APP, SHUFFLE, table, map, attempt)) {
                for (int partition = 0; partition < PARTITIONS; partition++) {
                    int[] sizes = sizes(map, partition);
                    for (int sequence = 0; sequence < sizes.length; sequence++) {
                        byte[] raw = content(map, partition, sequence, sizes[sequence], 1);
                        byte[] padded = new byte[raw.length + 10];
                        System.arraycopy(raw, 0, padded, 5, raw.length);
                        // The last batch is flagged explicitly for even maps, by finish() for odd ones.
                        mixed.addBatch(partition, padded, 5, raw.length, map % 2 == 0 && sequence == sizes.length - 1);
                        expected.computeIfAbsent(partition, p -> new TreeMap<>())
                                .computeIfAbsent(map, m -> new ArrayList<>()).add(raw);
                    }
                }
                mixed.finish();
                long[] stored = mixed.storedBytesPerPartition(PARTITIONS);
                for (int partition = 0; partition < PARTITIONS; partition++) {
                    if (stored[partition] > 0) {
                        nonEmpty.computeIfAbsent(partition, p -> new HashSet<>()).add(map);
                    }
                    if (map % 2 == 1 && sizes(map, partition).length > 0) {
                        expected.get(partition).get(map).add(new byte[0]); // finish()'s empty last batch
                    }
                }
            }
        }
        // A losing attempt of map 0 writes other content to a few partitions; readers must drop it.
        try (PushSession loser = client.newPushSession(APP, SHUFFLE, table, 0, LOSER_ATTEMPT)) {
            for (int partition = 0; partition < PARTITIONS; partition += 5) {
                byte[] raw = content(0, partition, 0, 3000, 99);
                loser.addBatch(partition, raw, 0, raw.length, true);
            }
            loser.finish();
        }
    }

    private SluiceClient codecClient(byte codec) {
        ClientSettings settings = new ClientSettings();
        settings.masterPort = cluster.masterPort;
        settings.codec = codec;
        settings.requestTimeoutMs = 30_000;
        settings.mergedPushBytes = 128 << 10;
        settings.maxInFlightPushesTotal = 8;
        return new SluiceClient(settings, "java-interop-codec-" + codec);
    }

    @Test
    @Order(2)
    void duplicateBatchIsDropped() throws Exception {
        // Push map 2's batch 0 of partition 4 again, exactly as before (a retried push).
        int partition = 4;
        int map = 2;
        assertTrue(sizes(map, partition).length > 0);
        PartitionLocation location = table.locations().stream().filter(l -> l.partitionId == partition).findFirst()
                .orElseThrow();
        byte[] raw = content(map, partition, 0, sizes(map, partition)[0], 1);
        Batch batch = new BatchCodec(1).encode(raw, 0, raw.length, Codec.ZSTD, map, winners.get(map), 0, false);
        int[] statuses = rawPush(SHUFFLE, location, List.of(batch));
        assertTrue(StatusCode.isStored(statuses[0]), "status " + StatusCode.name(statuses[0]));
    }

    private int[] rawPush(int shuffleId, PartitionLocation location, List<Batch> batches) throws IOException {
        List<PushRequest.Entry> entries = new ArrayList<>();
        for (Batch batch : batches) {
            entries.add(new PushRequest.Entry(location.partitionId, location.epoch,
                    location.replica == null ? null : location.replica.workerId,
                    location.replica == null ? null : location.replica.host,
                    location.replica == null ? 0 : location.replica.port, batch));
        }
        try (Connection connection = Connection.open(location.primary.host, location.primary.port,
                new ConnectionSettings(5_000, 30_000, 4, 1 << 20), "raw-push")) {
            byte[] body = PushRequest.encode(new ShuffleKey(APP, shuffleId),
                    Messages.ROLE_PRIMARY, entries);
            return Messages.decodePushStatuses(connection.call(PushRequest.frameType(entries.size()), body).body,
                    entries.size());
        }
    }

    @Test
    @Order(3)
    void readsEveryPartitionExactly() throws Exception {
        PartitionReader reader = client.newReader(APP, SHUFFLE);
        readAndCompare(reader);
        assertTrue(reader.bytesFetched() > 1L << 20, "fetched only " + reader.bytesFetched() + " bytes");
        assertEquals(0, reader.failovers());
    }

    private void readAndCompare(PartitionReader reader) throws IOException {
        for (int partition = 0; partition < PARTITIONS; partition++) {
            Map<Integer, Map<Integer, byte[]>> received = new TreeMap<>();
            reader.read(partition, 0, MAPS, winners, nonEmpty.getOrDefault(partition, Set.of()),
                    (mapIndex, attemptId, sequence, raw, offset, length) -> {
                        assertEquals(winners.get(mapIndex), attemptId);
                        byte[] copy = Arrays.copyOfRange(raw, offset, offset + length);
                        byte[] previous = received.computeIfAbsent(mapIndex, m -> new TreeMap<>()).put(sequence, copy);
                        assertEquals(null, previous, "batch delivered twice");
                    });
            Map<Integer, List<byte[]>> want = expected.getOrDefault(partition, Map.of());
            for (int map = 0; map < MAPS; map++) {
                List<byte[]> wanted = want.getOrDefault(map, List.of());
                Map<Integer, byte[]> got = received.getOrDefault(map, Map.of());
                assertEquals(wanted.size(), got.size(), "batch count of map " + map + " partition " + partition);
                for (int sequence = 0; sequence < wanted.size(); sequence++) {
                    assertArrayEquals(wanted.get(sequence), got.get(sequence),
                            "map " + map + " partition " + partition + " sequence " + sequence);
                }
            }
        }
    }

    @Test
    @Order(4)
    void gapsAndMissingLastBatchesThrow() throws Exception {
        int shuffle = 2;
        LocationTable gapTable = client.master().registerShuffle(APP, shuffle, 3, 3, true);
        {
            BatchCodec codec = new BatchCodec(1);
            byte[] raw = content(0, 0, 0, 500, 5);
            Map<Integer, PartitionLocation> byPartition = new HashMap<>();
            for (PartitionLocation location : gapTable.locations()) {
                byPartition.put(location.partitionId, location);
            }
            // Partition 0: map 0 has sequences 0 and 2 (last): a gap.
            rawPush(shuffle, byPartition.get(0), List.of(codec.encode(raw, 0, raw.length, Codec.LZ4, 0, 7, 0, false),
                    codec.encode(raw, 0, raw.length, Codec.LZ4, 0, 7, 2, true)));
            // Partition 1: map 1 has sequence 0 only, never the last flag.
            rawPush(shuffle, byPartition.get(1), List.of(codec.encode(raw, 0, raw.length, Codec.NONE, 1, 8, 0, false)));
            // Partition 2: map 2 complete.
            rawPush(shuffle, byPartition.get(2), List.of(codec.encode(raw, 0, raw.length, Codec.ZSTD, 2, 9, 0, true)));
        }
        Map<Integer, Long> gapWinners = Map.of(0, 7L, 1, 8L, 2, 9L);
        PartitionReader reader = client.newReader(APP, shuffle);
        BatchConsumer ignore = (mapIndex, attemptId, sequence, raw, offset, length) -> { };
        ReadIncompleteException gap = assertThrows(ReadIncompleteException.class,
                () -> reader.read(0, 0, 3, gapWinners, Set.of(0), ignore));
        assertTrue(gap.getMessage().contains("missing batch sequences [1]"), gap.getMessage());
        assertTrue(gap.getMessage().contains("shuffle " + APP + "/" + shuffle), gap.getMessage());
        assertThrows(ReadIncompleteException.class, () -> reader.read(1, 0, 3, gapWinners, Set.of(1), ignore));
        // A map said to be non-empty that delivered nothing.
        assertThrows(ReadIncompleteException.class, () -> reader.read(2, 0, 3, gapWinners, Set.of(0, 2), ignore));
        int[] count = {0};
        reader.read(2, 0, 3, gapWinners, Set.of(2), (mapIndex, attemptId, sequence, raw, offset, length) -> count[0]++);
        assertEquals(1, count[0]);
        // Map range: maps outside [0, 2) are not delivered nor required.
        reader.read(2, 0, 2, gapWinners, Set.of(2), (mapIndex, attemptId, sequence, raw, offset, length) -> count[0]++);
        assertEquals(1, count[0]);
    }

    @Test
    @Order(5)
    void readsFromReplicasAfterAWorkerDies() throws Exception {
        cluster.killWorker(0);
        PartitionReader reader = client.newReader(APP, SHUFFLE);
        readAndCompare(reader);
        assertTrue(reader.failovers() > 0, "expected fail-overs to replicas");
    }

    @Test
    @Order(6)
    void pushesReviveAwayFromTheDeadWorker() throws Exception {
        int shuffle = 3;
        LocationTable revived = client.master().registerShuffle(APP, shuffle, 1, 6, true);
        Map<Integer, byte[]> written = new HashMap<>();
        try (PushSession session = client.newPushSession(APP, shuffle, revived, 0, 1)) {
            for (int partition = 0; partition < 6; partition++) {
                byte[] raw = content(0, partition, 0, 10_000, 3);
                written.put(partition, raw);
                session.addBatch(partition, raw, 0, raw.length, true);
            }
            session.finish();
        }
        // Every partition had a copy on the dead worker, so every one was revived to a newer epoch.
        Set<Integer> revivedPartitions = new HashSet<>();
        for (PartitionLocation location : client.master().getLocations(APP, shuffle)) {
            if (location.epoch > 0) {
                revivedPartitions.add(location.partitionId);
            }
        }
        assertEquals(6, revivedPartitions.size(), "partitions revived");
        PartitionReader reader = client.newReader(APP, shuffle);
        for (int partition = 0; partition < 6; partition++) {
            List<byte[]> got = new ArrayList<>();
            reader.read(partition, 0, 1, Map.of(0, 1L), Set.of(0),
                    (mapIndex, attemptId, sequence, raw, offset, length) ->
                            got.add(Arrays.copyOfRange(raw, offset, offset + length)));
            assertEquals(1, got.size());
            assertArrayEquals(written.get(partition), got.get(0));
        }
    }
}
