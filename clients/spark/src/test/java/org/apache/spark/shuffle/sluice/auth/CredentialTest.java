package org.apache.spark.shuffle.sluice.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.apache.spark.shuffle.sluice.protocol.Hello;
import org.junit.jupiter.api.Test;

/**
 * The handshake proofs against the vectors the Swift tests check too (KeyDerivationTests, computed independently with
 * Python's hmac module): the Java client and the Swift servers agree on every byte of the transcript.
 */
class CredentialTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] APP_1_TOKEN =
            HEX.parseHex("de9ceba251ad34c8bcb4b09d8e86b39c9e5368471ab7f3081cfef5c18ae72804");

    private static byte[] range(int from, int to) {
        byte[] bytes = new byte[to - from];
        for (int i = from; i < to; i++) {
            bytes[i - from] = (byte) i;
        }
        return bytes;
    }

    @Test
    void proofsMatchTheSharedVectors() {
        Credential token = Credential.applicationToken(APP_1_TOKEN);
        byte[] clientNonce = range(0, 32);
        byte[] serverNonce = range(32, 64);
        byte[] proof = token.peerProof(Hello.ROLE_CLIENT, "app-1", clientNonce, serverNonce, "worker-0");
        assertEquals("b523379c93c077030098aa34fae35fa2f28c9bf90ff956fcb6de10d0032502a8", HEX.formatHex(proof));
        byte[] serverProof = HEX.parseHex("a35345c6c39fd339fc2d1ef39974677a9aa611bc42fd100f401bf7c2f12ee509");
        assertTrue(token.isValidServerProof(serverProof, Hello.ROLE_CLIENT, "app-1", clientNonce, serverNonce,
                "worker-0"));
        assertFalse(token.isValidServerProof(proof, Hello.ROLE_CLIENT, "app-1", clientNonce, serverNonce,
                "worker-0"), "the peer's proof is not the server's");
        assertFalse(token.isValidServerProof(serverProof, Hello.ROLE_CLIENT, "app-1", clientNonce, serverNonce,
                "worker-1"), "the proof covers the server's name");
    }

    @Test
    void clientSecretsParseFromHexAndRejectAnythingElse() {
        String hex = "685be7fa21fad2fdff9114fb2999d2894297293bc5102dd33c3bcb55ffe83861";
        Credential client = Credential.clientSecret("  " + hex + "\n");
        assertEquals(Credential.KIND_CLIENT, client.kind());
        assertArrayEquals(HEX.parseHex(hex), client.keyBytes());
        assertThrows(IllegalArgumentException.class, () -> Credential.clientSecret("not hex"));
        assertThrows(IllegalArgumentException.class, () -> Credential.clientSecret(hex.substring(2) + "zz"));
        assertFalse(client.toString().contains(hex.substring(0, 8)), "toString never shows the key");
    }
}
