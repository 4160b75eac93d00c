package org.apache.spark.shuffle.sluice.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.spark.shuffle.sluice.protocol.WireWriter;

/**
 * A key this client proves in the handshake, with its kind: the client secret (registers new applications only) or
 * an application's token (that application's shuffles only). Proofs are HMAC-SHA256 over the handshake transcript,
 * exactly as the Swift servers compute them (docs/security.md; the test vectors are shared). The key never travels.
 */
public final class Credential {
    /** Wire numbers of the credential kinds (SluiceCore's {@code CredentialKind}). */
    public static final int KIND_WORKER = 1;
    public static final int KIND_CLIENT = 2;
    public static final int KIND_APPLICATION = 3;
    /** Length of handshake nonces and keys in bytes. */
    public static final int KEY_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final int kind;
    private final byte[] key;

    public Credential(int kind, byte[] key) {
        if (kind < KIND_WORKER || kind > KIND_APPLICATION) {
            throw new IllegalArgumentException("unknown credential kind " + kind);
        }
        this.kind = kind;
        this.key = key.clone();
    }

    /** The client secret from its text form: 64 hexadecimal digits (surrounding white space ignored). */
    public static Credential clientSecret(String text) {
        String trimmed = text.trim();
        if (trimmed.length() != 2 * KEY_BYTES) {
            throw new IllegalArgumentException(
                    "a Sluice client secret is 64 hexadecimal digits (print it with `sluice auth client-secret`)");
        }
        byte[] key = new byte[KEY_BYTES];
        for (int i = 0; i < KEY_BYTES; i++) {
            int high = Character.digit(trimmed.charAt(2 * i), 16);
            int low = Character.digit(trimmed.charAt(2 * i + 1), 16);
            if (high < 0 || low < 0) {
                throw new IllegalArgumentException("a Sluice client secret is 64 hexadecimal digits");
            }
            key[i] = (byte) (high << 4 | low);
        }
        return new Credential(KIND_CLIENT, key);
    }

    /** The client secret read from a file (a mounted Kubernetes Secret). */
    public static Credential clientSecretFile(Path path) throws IOException {
        return clientSecret(new String(Files.readAllBytes(path), StandardCharsets.UTF_8));
    }

    /** An application's token, as the master returned it. */
    public static Credential applicationToken(byte[] token) {
        return new Credential(KIND_APPLICATION, token);
    }

    public int kind() {
        return kind;
    }

    /** The key bytes (a copy): an application token travels to executors in the shuffle handle. */
    public byte[] keyBytes() {
        return key.clone();
    }

    /** A fresh random handshake nonce. */
    public static byte[] newNonce() {
        byte[] nonce = new byte[KEY_BYTES];
        RANDOM.nextBytes(nonce);
        return nonce;
    }

    /** This client's proof over the transcript. */
    public byte[] peerProof(int role, String identity, byte[] clientNonce, byte[] serverNonce, String serverId) {
        return mac(transcript("peer", role, identity, clientNonce, serverNonce, serverId));
    }

    /** True when {@code proof} is the server's proof over the transcript (constant-time comparison). */
    public boolean isValidServerProof(byte[] proof, int role, String identity, byte[] clientNonce, byte[] serverNonce,
                                      String serverId) {
        byte[] expected = mac(transcript("server", role, identity, clientNonce, serverNonce, serverId));
        return MessageDigest.isEqual(expected, proof);
    }

    private byte[] transcript(String direction, int role, String identity, byte[] clientNonce, byte[] serverNonce,
                              String serverId) {
        return new WireWriter()
                .writeString("sluice-handshake-v1")
                .writeString(direction)
                .writeU8(role)
                .writeString(identity)
                .writeU8(kind)
                .writeBlob(clientNonce, 0, clientNonce.length)
                .writeBlob(serverNonce, 0, serverNonce.length)
                .writeString(serverId)
                .toByteArray();
    }

    private byte[] mac(byte[] message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(message);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "Credential(kind " + kind + ", key redacted)";
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Credential && ((Credential) other).kind == kind
                && MessageDigest.isEqual(((Credential) other).key, key);
    }

    @Override
    public int hashCode() {
        return 31 * kind + Arrays.hashCode(key);
    }
}
