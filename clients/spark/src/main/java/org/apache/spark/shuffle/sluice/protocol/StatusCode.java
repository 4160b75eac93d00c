package org.apache.spark.shuffle.sluice.protocol;

/** Status codes (u16) carried in every response body; the numbers are shared with the Swift servers. */
public final class StatusCode {
    public static final int OK = 0;
    public static final int SOFT_SPLIT = 1;
    public static final int HARD_SPLIT = 2;
    public static final int CONGESTED = 3;
    public static final int MALFORMED = 10;
    public static final int FRAME_TOO_LARGE = 11;
    public static final int UNSUPPORTED_VERSION = 12;
    public static final int HANDSHAKE_REQUIRED = 13;
    public static final int UNKNOWN_MESSAGE = 14;
    public static final int UNAUTHENTICATED = 15;
    public static final int FORBIDDEN = 16;
    public static final int UNKNOWN_SHUFFLE = 20;
    public static final int UNKNOWN_PARTITION = 21;
    public static final int UNKNOWN_STREAM = 22;
    public static final int UNKNOWN_WORKER = 23;
    public static final int NO_WORKERS = 24;
    public static final int SHUFFLE_DELETED = 25;
    public static final int CORRUPT = 30;
    public static final int REPLICATION_FAILED = 31;
    public static final int IO_ERROR = 32;
    public static final int SHUTTING_DOWN = 33;
    public static final int INVALID_ARGUMENT = 34;
    public static final int LIMIT_EXCEEDED = 35;
    public static final int INTERNAL_ERROR = 99;

    private StatusCode() {
    }

    /** Maps a wire value to a known code; unknown numbers (from a newer peer) become {@link #INTERNAL_ERROR}. */
    public static int decode(int raw) {
        switch (raw) {
            case OK: case SOFT_SPLIT: case HARD_SPLIT: case CONGESTED: case MALFORMED: case FRAME_TOO_LARGE:
            case UNSUPPORTED_VERSION: case HANDSHAKE_REQUIRED: case UNKNOWN_MESSAGE: case UNAUTHENTICATED:
            case FORBIDDEN: case UNKNOWN_SHUFFLE:
            case UNKNOWN_PARTITION: case UNKNOWN_STREAM: case UNKNOWN_WORKER: case NO_WORKERS: case SHUFFLE_DELETED:
            case CORRUPT:
            case REPLICATION_FAILED: case IO_ERROR: case SHUTTING_DOWN: case INVALID_ARGUMENT: case LIMIT_EXCEEDED:
            case INTERNAL_ERROR:
                return raw;
            default:
                return INTERNAL_ERROR;
        }
    }

    /** True when a push entry with this status is acknowledged: stored on every copy. */
    public static boolean isStored(int status) {
        return status == OK || status == SOFT_SPLIT;
    }

    /** The protocol name of a code, as in docs/protocol.md. */
    public static String name(int status) {
        switch (status) {
            case OK: return "ok";
            case SOFT_SPLIT: return "softSplit";
            case HARD_SPLIT: return "hardSplit";
            case CONGESTED: return "congested";
            case MALFORMED: return "malformed";
            case FRAME_TOO_LARGE: return "frameTooLarge";
            case UNSUPPORTED_VERSION: return "unsupportedVersion";
            case HANDSHAKE_REQUIRED: return "handshakeRequired";
            case UNKNOWN_MESSAGE: return "unknownMessage";
            case UNAUTHENTICATED: return "unauthenticated";
            case FORBIDDEN: return "forbidden";
            case UNKNOWN_SHUFFLE: return "unknownShuffle";
            case UNKNOWN_PARTITION: return "unknownPartition";
            case UNKNOWN_STREAM: return "unknownStream";
            case UNKNOWN_WORKER: return "unknownWorker";
            case NO_WORKERS: return "noWorkers";
            case SHUFFLE_DELETED: return "shuffleDeleted";
            case CORRUPT: return "corrupt";
            case REPLICATION_FAILED: return "replicationFailed";
            case IO_ERROR: return "ioError";
            case SHUTTING_DOWN: return "shuttingDown";
            case INVALID_ARGUMENT: return "invalidArgument";
            case LIMIT_EXCEEDED: return "limitExceeded";
            case INTERNAL_ERROR: return "internalError";
            default: return "status" + status;
        }
    }
}
