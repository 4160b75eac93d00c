package org.apache.spark.shuffle.sluice.protocol;

import java.io.IOException;

/**
 * The handshake: {@code magic u32 | version u16 | role u8 | identity string [| clientNonce bytes]}, answered with
 * {@code status u16 | message string | version u16 | serverId string [| serverNonce bytes]}. With nonces, the client
 * then proves its credential in an {@code authenticate} frame ({@code kind u8 | proof bytes}), answered with
 * {@code status u16 | message string | serverProof bytes}.
 */
public final class Hello {
    /** "SLCE" in ASCII. */
    public static final long MAGIC = 0x534C4345L;
    /** The only protocol version this client speaks. */
    public static final int VERSION = 1;
    public static final int ROLE_CLIENT = 0;
    public static final int ROLE_WORKER = 1;
    public static final int ROLE_MASTER = 2;
    public static final int ROLE_TOOL = 3;

    private Hello() {
    }

    /** The hello; {@code clientNonce} (32 bytes) when the client will authenticate, else null. */
    public static byte[] encodeRequest(int role, String identity, byte[] clientNonce) {
        WireWriter writer = new WireWriter().writeU32(MAGIC).writeU16(VERSION).writeU8(role).writeString(identity);
        if (clientNonce != null) {
            writer.writeBlob(clientNonce, 0, clientNonce.length);
        }
        return writer.toByteArray();
    }

    public static byte[] encodeRequest(int role, String identity) {
        return encodeRequest(role, identity, null);
    }

    /** The {@code authenticate} frame's body. */
    public static byte[] encodeAuthenticate(int credentialKind, byte[] proof) {
        return new WireWriter().writeU8(credentialKind).writeBlob(proof, 0, proof.length).toByteArray();
    }

    /** The server's proof from an ok {@code authenticate} answer; throws with the status otherwise. */
    public static byte[] decodeAuthenticateResponse(byte[] body, String context) throws IOException {
        WireReader reader = new WireReader(body);
        ResponseHead head = ResponseHead.decode(reader);
        head.requireOk(context);
        return reader.readBlob("serverProof");
    }

    /**
     * The server's answer. {@code version} and {@code serverId} are 0 and "" when the server sent only a head;
     * {@code serverNonce} is null unless the server authenticates peers.
     */
    public static final class Response {
        public final ResponseHead head;
        public final int version;
        public final String serverId;
        public final byte[] serverNonce;

        Response(ResponseHead head, int version, String serverId, byte[] serverNonce) {
            this.head = head;
            this.version = version;
            this.serverId = serverId;
            this.serverNonce = serverNonce;
        }
    }

    public static Response decodeResponse(byte[] body) throws MalformedMessageException {
        WireReader reader = new WireReader(body);
        ResponseHead head = ResponseHead.decode(reader);
        if (reader.remaining() == 0) {
            return new Response(head, 0, "", null);
        }
        int version = reader.readU16("hello.version");
        String serverId = reader.readString("hello.serverId");
        byte[] serverNonce = null;
        if (reader.remaining() > 0) {
            serverNonce = reader.readBlob("hello.serverNonce");
            if (serverNonce.length != 32) {
                throw new MalformedMessageException("hello.serverNonce is " + serverNonce.length + " bytes, not 32");
            }
        }
        reader.expectEnd("hello response");
        return new Response(head, version, serverId, serverNonce);
    }
}
