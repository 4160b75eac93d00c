package org.apache.spark.shuffle.sluice.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.spark.shuffle.sluice.auth.Credential;
import org.apache.spark.shuffle.sluice.protocol.ProtocolException;
import org.apache.spark.shuffle.sluice.protocol.StatusCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Java client against Swift servers started with a cluster secret: a driver holding the client secret registers
 * its application and proves the token it gets; a client without it is refused; another application's token cannot
 * read this one's shuffle.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthInteropTest {
    private static final String SECRET = "java-auth-interop-secret-0123456789abcdef";
    private static final String APP = "java-auth";

    private SwiftCluster cluster;
    private Credential clientSecret;
    private SluiceClient client;

    @BeforeAll
    void startCluster() throws Exception {
        Path binDir = SwiftCluster.defaultBinDir();
        Assumptions.assumeTrue(SwiftCluster.available(binDir),
                "Swift servers not built at " + binDir + " (run `swift build`): interop test skipped");
        cluster = new SwiftCluster(binDir);
        cluster.environment.put("SLUICE_CLUSTER_SECRET", SECRET);
        try {
            cluster.startMaster();
            cluster.startWorker(0);
            cluster.startWorker(1);
            // What `sluice auth client-secret` prints: HMAC-SHA256(secret, "sluice/v1/client").
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            clientSecret = new Credential(Credential.KIND_CLIENT,
                    mac.doFinal("sluice/v1/client".getBytes(StandardCharsets.UTF_8)));
            client = new SluiceClient(settings(), APP, Credential.applicationToken(register(APP)));
            awaitTwoWorkers();
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

    private ClientSettings settings() {
        ClientSettings settings = new ClientSettings();
        settings.masterPort = cluster.masterPort;
        settings.requestTimeoutMs = 30_000;
        settings.connectTimeoutMs = 5_000;
        return settings;
    }

    private byte[] register(String applicationId) throws IOException {
        MasterClient master = new MasterClient(settings(), applicationId, clientSecret);
        try {
            byte[] token = master.registerApplication(applicationId);
            assertEquals(32, token.length, "a secured master returns a 32-byte token");
            return token;
        } finally {
            master.close();
        }
    }

    private void awaitTwoWorkers() throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        for (int probe = 1000; System.currentTimeMillis() < deadline; probe++) {
            LocationTable table = client.master().registerShuffle(APP, probe, 1, 4, true);
            Set<String> named = new HashSet<>();
            for (PartitionLocation location : table.locations()) {
                named.add(location.primary.workerId);
            }
            if (named.size() == 2) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the master never placed partitions on two workers");
    }

    private static int statusOf(Exception e) {
        Throwable cause = e;
        while (cause != null && !(cause instanceof ProtocolException)) {
            cause = cause.getCause();
        }
        return cause == null ? -1 : ((ProtocolException) cause).status();
    }

    @Test
    void aSecuredShuffleRoundTripsWithTheApplicationToken() throws Exception {
        LocationTable table = client.master().registerShuffle(APP, 1, 1, 4, true);
        byte[][] written = new byte[4][];
        try (PushSession session = client.newPushSession(APP, 1, table, 0, 7)) {
            for (int partition = 0; partition < 4; partition++) {
                written[partition] = ("partition " + partition + " of a secured shuffle").getBytes(StandardCharsets.UTF_8);
                session.addBatch(partition, written[partition], 0, written[partition].length, true);
            }
            session.finish();
        }
        PartitionReader reader = client.newReader(APP, 1);
        for (int partition = 0; partition < 4; partition++) {
            ByteArrayOutputStream read = new ByteArrayOutputStream();
            reader.read(partition, 0, 1, Map.of(0, 7L), Set.of(0),
                    (map, attempt, sequence, raw, offset, length) -> read.write(raw, offset, length));
            assertArrayEquals(written[partition], read.toByteArray());
        }
    }

    @Test
    void aClientWithoutACredentialIsRefused() {
        try (SluiceClient anonymous = new SluiceClient(settings(), "anonymous")) {
            IOException refused = assertThrows(IOException.class,
                    () -> anonymous.master().registerShuffle(APP, 2, 1, 1, true));
            assertEquals(StatusCode.UNAUTHENTICATED, statusOf(refused), refused.toString());
        }
    }

    @Test
    void anotherApplicationsTokenCannotReadThisOne() throws Exception {
        client.master().registerShuffle(APP, 3, 1, 1, true);
        byte[] otherToken = register("java-other");
        try (SluiceClient other = new SluiceClient(settings(), "java-other", Credential.applicationToken(otherToken))) {
            IOException refused = assertThrows(IOException.class, () -> other.newReader(APP, 3)
                    .read(0, 0, 1, Map.of(0, 1L), Set.of(), (m, a, s, raw, o, l) -> { }));
            assertEquals(StatusCode.FORBIDDEN, statusOf(refused), refused.toString());
        }
        IOException again = assertThrows(IOException.class, () -> register(APP));
        assertEquals(StatusCode.FORBIDDEN, statusOf(again), "a live application's token goes to its driver alone");
        assertTrue(again.getMessage().contains("already registered"), again.getMessage());
    }
}
