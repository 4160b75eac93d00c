package org.apache.spark.shuffle.sluice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Paths;
import org.apache.spark.shuffle.sluice.auth.Credential;

import org.apache.spark.SparkConf;
import org.apache.spark.shuffle.sluice.client.ClientSettings;
import org.apache.spark.shuffle.sluice.client.Codec;

/**
 * Every {@code spark.sluice.*} setting, with its default, parsed once from a {@link SparkConf}.
 *
 * <p>Sizes accept Spark's byte strings ({@code 256k}, {@code 1m}), durations Spark's time strings ({@code 120s}).
 * docs/spark.md lists the same keys for users; keep the two in step.
 */
public final class SluiceConf {
    /** {@code HOST:PORT} of the Sluice master. Required. */
    public static final String MASTER_ADDRESS = "spark.sluice.master.address";
    /** Codec of pushed batches: {@code lz4}, {@code zstd} or {@code none}. */
    public static final String CODEC = "spark.sluice.codec";
    public static final String CODEC_DEFAULT = "lz4";
    /** Serialized bytes buffered for one partition before they are cut into a batch. */
    public static final String PUSH_BUFFER_SIZE = "spark.sluice.push.bufferSize";
    public static final String PUSH_BUFFER_SIZE_DEFAULT = "256k";
    /** Small batches bound for one worker are merged into one push request up to this size. */
    public static final String PUSH_MERGED_SIZE = "spark.sluice.push.mergedSize";
    public static final String PUSH_MERGED_SIZE_DEFAULT = "1m";
    /** Push requests awaiting a response per worker connection. */
    public static final String PUSH_MAX_IN_FLIGHT_PER_WORKER = "spark.sluice.push.maxInFlightPerWorker";
    public static final int PUSH_MAX_IN_FLIGHT_PER_WORKER_DEFAULT = 32;
    /** Push requests awaiting acknowledgement per map task. */
    public static final String PUSH_MAX_IN_FLIGHT_TOTAL = "spark.sluice.push.maxInFlightTotal";
    public static final int PUSH_MAX_IN_FLIGHT_TOTAL_DEFAULT = 256;
    /** How often one batch may be revived and resent before the map task fails. */
    public static final String PUSH_MAX_RETRIES = "spark.sluice.push.maxRetries";
    public static final int PUSH_MAX_RETRIES_DEFAULT = 5;
    /** Serialized bytes one map task buffers over all partitions before the largest buffer is cut early. */
    public static final String WRITER_BUFFER_MEMORY = "spark.sluice.writer.bufferMemory";
    public static final String WRITER_BUFFER_MEMORY_DEFAULT = "64m";
    /** Time limit of one request to the master or a worker (connecting has its own 10 s limit). */
    public static final String NETWORK_TIMEOUT = "spark.sluice.network.timeout";
    public static final String NETWORK_TIMEOUT_DEFAULT = "120s";
    /** Chunk fetches in flight per partition stream when reading. */
    public static final String FETCH_WINDOW = "spark.sluice.fetch.window";
    public static final int FETCH_WINDOW_DEFAULT = 4;
    /** Ask the master for a replica of every partition. */
    public static final String REPLICATE = "spark.sluice.replicate";
    public static final boolean REPLICATE_DEFAULT = true;
    /** How often the driver tells the master that the application is alive. */
    public static final String HEARTBEAT_INTERVAL = "spark.sluice.heartbeat.interval";
    public static final String HEARTBEAT_INTERVAL_DEFAULT = "10s";

    /** Spark's setting naming the ShuffleDataIO plugin; see {@link SluiceShuffleDataIO}. */
    /** The client secret (64 hex digits, from `sluice auth client-secret`); Spark redacts "secret" keys in its UI. */
    public static final String AUTH_CLIENT_SECRET = "spark.sluice.auth.clientSecret";
    /** A file holding the client secret (a mounted Kubernetes Secret); read on the driver only. */
    public static final String AUTH_CLIENT_SECRET_FILE = "spark.sluice.auth.clientSecretFile";

    /** {@code never} (default): a shuffle Sluice cannot take fails the job; {@code auto}: it uses Spark's sort shuffle. */
    public static final String FALLBACK = "spark.sluice.fallback";
    public static final String FALLBACK_DEFAULT = "never";
    /** With fallback on, shuffles with more reduce partitions than this use Spark's sort shuffle. */
    public static final String FALLBACK_MAX_PARTITIONS = "spark.sluice.fallback.maxPartitions";
    public static final int FALLBACK_MAX_PARTITIONS_DEFAULT = 200_000;
    /**
     * Whether to tell Spark's dynamic allocation that shuffle data survives executor removal: {@code auto} (default)
     * claims it unless fallback is on (a fallen-back shuffle lives on executors); {@code true} or {@code false} force it.
     */
    public static final String RELIABLE_STORAGE = "spark.sluice.reliableStorage";
    public static final String RELIABLE_STORAGE_DEFAULT = "auto";

    public static final String SPARK_SHUFFLE_IO_PLUGIN = "spark.shuffle.sort.io.plugin.class";

    public final String masterHost;
    public final int masterPort;
    public final byte codec;
    public final int pushBufferBytes;
    public final int pushMergedBytes;
    public final int pushMaxInFlightPerWorker;
    public final int pushMaxInFlightTotal;
    public final int pushMaxRetries;
    public final long writerBufferMemoryBytes;
    public final int networkTimeoutMs;
    public final int fetchWindowChunks;
    public final boolean replicate;
    public final long heartbeatIntervalMs;
    /** Shuffles Sluice cannot take use Spark's sort shuffle (spark.sluice.fallback=auto). */
    public final boolean fallback;
    /** With fallback, the most reduce partitions a Sluice shuffle may have. */
    public final int fallbackMaxPartitions;
    /** Whether the driver reports reliable shuffle storage to Spark. */
    public final boolean reliableStorage;
    /** The inline client secret, or null. */
    private final String clientSecretText;
    /** The client secret's file, or null. */
    private final String clientSecretFile;

    /** Parses and checks every setting; throws {@link IllegalArgumentException} naming the key on a bad value. */
    public SluiceConf(SparkConf conf) {
        String address = conf.get(MASTER_ADDRESS, "").trim();
        int colon = address.lastIndexOf(':');
        if (address.isEmpty() || colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException(MASTER_ADDRESS + " must be HOST:PORT (got '" + address + "')");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        masterHost = host;
        masterPort = parsePort(address.substring(colon + 1));
        codec = Codec.parse(conf.get(CODEC, CODEC_DEFAULT));
        pushBufferBytes = intBytes(conf, PUSH_BUFFER_SIZE, PUSH_BUFFER_SIZE_DEFAULT, 1, 64 << 20);
        pushMergedBytes = intBytes(conf, PUSH_MERGED_SIZE, PUSH_MERGED_SIZE_DEFAULT, 1, 64 << 20);
        pushMaxInFlightPerWorker = positiveInt(conf, PUSH_MAX_IN_FLIGHT_PER_WORKER, PUSH_MAX_IN_FLIGHT_PER_WORKER_DEFAULT);
        pushMaxInFlightTotal = positiveInt(conf, PUSH_MAX_IN_FLIGHT_TOTAL, PUSH_MAX_IN_FLIGHT_TOTAL_DEFAULT);
        pushMaxRetries = conf.getInt(PUSH_MAX_RETRIES, PUSH_MAX_RETRIES_DEFAULT);
        if (pushMaxRetries < 0) {
            throw new IllegalArgumentException(PUSH_MAX_RETRIES + " must not be negative");
        }
        writerBufferMemoryBytes = conf.getSizeAsBytes(WRITER_BUFFER_MEMORY, WRITER_BUFFER_MEMORY_DEFAULT);
        if (writerBufferMemoryBytes < pushBufferBytes) {
            throw new IllegalArgumentException(WRITER_BUFFER_MEMORY + " must be at least " + PUSH_BUFFER_SIZE);
        }
        long timeoutMs = conf.getTimeAsMs(NETWORK_TIMEOUT, NETWORK_TIMEOUT_DEFAULT);
        if (timeoutMs <= 0 || timeoutMs > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(NETWORK_TIMEOUT + " must be positive and below 24 days");
        }
        networkTimeoutMs = (int) timeoutMs;
        fetchWindowChunks = positiveInt(conf, FETCH_WINDOW, FETCH_WINDOW_DEFAULT);
        replicate = conf.getBoolean(REPLICATE, REPLICATE_DEFAULT);
        heartbeatIntervalMs = conf.getTimeAsMs(HEARTBEAT_INTERVAL, HEARTBEAT_INTERVAL_DEFAULT);
        if (heartbeatIntervalMs <= 0) {
            throw new IllegalArgumentException(HEARTBEAT_INTERVAL + " must be positive");
        }
        String fallbackMode = conf.get(FALLBACK, FALLBACK_DEFAULT).trim();
        if (!fallbackMode.equals("never") && !fallbackMode.equals("auto")) {
            throw new IllegalArgumentException(FALLBACK + " must be never or auto (got '" + fallbackMode + "')");
        }
        fallback = fallbackMode.equals("auto");
        fallbackMaxPartitions = positiveInt(conf, FALLBACK_MAX_PARTITIONS, FALLBACK_MAX_PARTITIONS_DEFAULT);
        String reliable = conf.get(RELIABLE_STORAGE, RELIABLE_STORAGE_DEFAULT).trim();
        switch (reliable) {
            case "auto":
                reliableStorage = !fallback;
                break;
            case "true":
            case "false":
                reliableStorage = Boolean.parseBoolean(reliable);
                break;
            default:
                throw new IllegalArgumentException(RELIABLE_STORAGE + " must be auto, true or false (got '" + reliable
                        + "')");
        }
        String secret = conf.get(AUTH_CLIENT_SECRET, "").trim();
        String secretFile = conf.get(AUTH_CLIENT_SECRET_FILE, "").trim();
        if (!secret.isEmpty() && !secretFile.isEmpty()) {
            throw new IllegalArgumentException(AUTH_CLIENT_SECRET + " and " + AUTH_CLIENT_SECRET_FILE
                    + " are both set; give the client secret one way");
        }
        if (!secret.isEmpty()) {
            Credential.clientSecret(secret); // fails now, naming the format, rather than at the first shuffle
        }
        clientSecretText = secret.isEmpty() ? null : secret;
        clientSecretFile = secretFile.isEmpty() ? null : secretFile;
    }

    /** The client secret the driver registers its application with, or null when none is configured. */
    public Credential clientCredential() {
        if (clientSecretText != null) {
            return Credential.clientSecret(clientSecretText);
        }
        if (clientSecretFile == null) {
            return null;
        }
        try {
            return Credential.clientSecretFile(Paths.get(clientSecretFile));
        } catch (IOException e) {
            throw new UncheckedIOException(AUTH_CLIENT_SECRET_FILE + ": cannot read " + clientSecretFile, e);
        }
    }

    /** The client core's settings for these values. */
    public ClientSettings clientSettings() {
        ClientSettings settings = new ClientSettings();
        settings.masterHost = masterHost;
        settings.masterPort = masterPort;
        settings.codec = codec;
        settings.mergedPushBytes = pushMergedBytes;
        settings.maxInFlightPushesPerWorker = pushMaxInFlightPerWorker;
        settings.maxInFlightPushesTotal = pushMaxInFlightTotal;
        settings.maxPushRetries = pushMaxRetries;
        settings.requestTimeoutMs = networkTimeoutMs;
        settings.connectTimeoutMs = Math.min(settings.connectTimeoutMs, networkTimeoutMs);
        settings.fetchWindowChunks = fetchWindowChunks;
        settings.replicate = replicate;
        return settings;
    }

    private static int parsePort(String text) {
        try {
            int port = Integer.parseInt(text.trim());
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException(MASTER_ADDRESS + ": port " + port + " out of range");
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(MASTER_ADDRESS + ": bad port '" + text + "'", e);
        }
    }

    private static int intBytes(SparkConf conf, String key, String defaultValue, long min, long max) {
        long bytes = conf.getSizeAsBytes(key, defaultValue);
        if (bytes < min || bytes > max) {
            throw new IllegalArgumentException(key + " must be between " + min + " and " + max + " bytes (got " + bytes + ")");
        }
        return (int) bytes;
    }

    private static int positiveInt(SparkConf conf, String key, int defaultValue) {
        int value = conf.getInt(key, defaultValue);
        if (value <= 0) {
            throw new IllegalArgumentException(key + " must be positive (got " + value + ")");
        }
        return value;
    }
}
