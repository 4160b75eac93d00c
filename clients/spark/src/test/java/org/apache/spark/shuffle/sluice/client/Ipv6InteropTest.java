package org.apache.spark.shuffle.sluice.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Java client against a Swift master and two workers on {@code ::1}: the master hands out IPv6 worker addresses
 * (hosts without brackets), the client pushes to them with replication (the primary forwards to its replica over
 * IPv6), reads every byte back, and after a worker is killed reads it all again from the replicas. Skips when the
 * Swift executables were not built or {@code ::1} cannot be bound.
 */
class Ipv6InteropTest {
    private static final String APP = "java-ipv6";
    private static final int MAPS = 4;
    private static final int PARTITIONS = 20;

    private static boolean ipv6LoopbackWorks() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static byte[] content(int map, int partition) {
        byte[] text = ("ipv6 map " + map + " partition " + partition + " | ").getBytes(StandardCharsets.US_ASCII);
        byte[] data = new byte[1 + (map * 7919 + partition * 104_729) % 30_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = text[i % text.length];
        }
        return data;
    }

    @Test
    void pushesReplicatesAndReadsBackOverIpv6() throws Exception {
        Path binDir = SwiftCluster.defaultBinDir();
        Assumptions.assumeTrue(SwiftCluster.available(binDir), "Swift servers not built at " + binDir);
        Assumptions.assumeTrue(ipv6LoopbackWorks(), "::1 cannot be bound here");
        try (SwiftCluster cluster = new SwiftCluster(binDir, "::1")) {
            cluster.startMaster();
            cluster.startWorker(0);
            cluster.startWorker(1);
            ClientSettings settings = new ClientSettings();
            settings.masterHost = "::1";
            settings.masterPort = cluster.masterPort;
            settings.requestTimeoutMs = 30_000;
            settings.connectTimeoutMs = 5_000;
            try (SluiceClient client = new SluiceClient(settings, "java-ipv6-test")) {
                SwiftCluster.awaitTwoWorkers(client);
                LocationTable table = client.master().registerShuffle(APP, 1, MAPS, PARTITIONS, true);
                for (PartitionLocation location : table.locations()) {
                    assertEquals("::1", location.primary.host, location.toString());
                    assertNotNull(location.replica, location.toString());
                    assertEquals("::1", location.replica.host, location.toString());
                    assertTrue(location.primary.workerId.startsWith("[::1]:"), location.primary.workerId);
                }
                Map<Integer, Long> winners = new HashMap<>();
                Map<Integer, Set<Integer>> nonEmpty = new HashMap<>();
                for (int map = 0; map < MAPS; map++) {
                    winners.put(map, 10L + map);
                    try (PushSession session = client.newPushSession(APP, 1, table, map, 10L + map)) {
                        for (int partition = 0; partition < PARTITIONS; partition++) {
                            byte[] raw = content(map, partition);
                            session.addBatch(partition, raw, 0, raw.length, true);
                            nonEmpty.computeIfAbsent(partition, p -> new HashSet<>()).add(map);
                        }
                        session.finish();
                    }
                }
                PartitionReader reader = client.newReader(APP, 1);
                readAndCompare(reader, winners, nonEmpty);
                assertEquals(0, reader.failovers());

                cluster.killWorker(0);
                PartitionReader afterLoss = client.newReader(APP, 1);
                readAndCompare(afterLoss, winners, nonEmpty);
                assertTrue(afterLoss.failovers() > 0, "worker 0 was primary of some partitions: reads fail over");
            }
        }
    }

    private static void readAndCompare(PartitionReader reader, Map<Integer, Long> winners,
            Map<Integer, Set<Integer>> nonEmpty) throws IOException {
        for (int partition = 0; partition < PARTITIONS; partition++) {
            Map<Integer, byte[]> received = new HashMap<>();
            reader.read(partition, 0, MAPS, winners, nonEmpty.get(partition),
                    (mapIndex, attemptId, sequence, raw, offset, length) ->
                            received.put(mapIndex, Arrays.copyOfRange(raw, offset, offset + length)));
            for (int map = 0; map < MAPS; map++) {
                assertArrayEquals(content(map, partition), received.get(map), "map " + map + " partition " + partition);
            }
        }
    }
}
