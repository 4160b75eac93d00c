package org.apache.spark.shuffle.sluice.protocol;

/**
 * The handshake: {@code magic u32 | version u16 | role u8 | identity string}, answered with
 * {@code status u16 | message string | version u16 | serverId string}.
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

    public static byte[] encodeRequest(int role, String identity) {
        return new WireWriter().writeU32(MAGIC).writeU16(VERSION).writeU8(role).writeString(identity).toByteArray();
    }

    /** The server's answer. {@code version} and {@code serverId} are 0 and "" when the server sent only a head. */
    public static final class Response {
        public final ResponseHead head;
        public final int version;
        public final String serverId;

        Response(ResponseHead head, int version, String serverId) {
            this.head = head;
            this.version = version;
            this.serverId = serverId;
        }
    }

    public static Response decodeResponse(byte[] body) throws MalformedMessageException {
        WireReader reader = new WireReader(body);
        ResponseHead head = ResponseHead.decode(reader);
        if (reader.remaining() == 0) {
            return new Response(head, 0, "");
        }
        int version = reader.readU16("hello.version");
        String serverId = reader.readString("hello.serverId");
        reader.expectEnd("hello response");
        return new Response(head, version, serverId);
    }
}
