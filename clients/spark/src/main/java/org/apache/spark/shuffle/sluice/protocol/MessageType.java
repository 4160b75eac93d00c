package org.apache.spark.shuffle.sluice.protocol;

/** Frame header {@code type} values. A response has the type of its request and the response flag. */
public final class MessageType {
    public static final int HELLO = 0x0001;
    public static final int PING = 0x0002;
    public static final int AUTHENTICATE = 0x0003;
    public static final int REGISTER_WORKER = 0x0010;
    public static final int WORKER_HEARTBEAT = 0x0011;
    public static final int REGISTER_SHUFFLE = 0x0020;
    public static final int APPLICATION_HEARTBEAT = 0x0021;
    public static final int UNREGISTER_SHUFFLE = 0x0022;
    public static final int UNREGISTER_APPLICATION = 0x0023;
    public static final int REVIVE = 0x0024;
    public static final int GET_LOCATIONS = 0x0025;
    public static final int REGISTER_APPLICATION = 0x0026;
    public static final int PUSH_BATCH = 0x0030;
    public static final int PUSH_BATCHES = 0x0031;
    public static final int OPEN_STREAM = 0x0040;
    public static final int FETCH_CHUNK = 0x0041;
    public static final int CLOSE_STREAM = 0x0042;

    private MessageType() {
    }
}
