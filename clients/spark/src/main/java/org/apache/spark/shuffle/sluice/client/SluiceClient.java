package org.apache.spark.shuffle.sluice.client;

import java.io.Closeable;
import org.apache.spark.shuffle.sluice.auth.Credential;
import org.apache.spark.shuffle.sluice.net.ConnectionPool;
import org.apache.spark.shuffle.sluice.net.ConnectionSettings;
import org.apache.spark.shuffle.sluice.protocol.BatchHeader;

/**
 * The client of one JVM, shared by all tasks: one master connection and a pool of worker connections (one per
 * worker endpoint) used by the push sessions and readers it creates. Thread-safe.
 */
public final class SluiceClient implements Closeable {
    private final ClientSettings settings;
    private final String identity;
    private final MasterClient master;
    private final ConnectionPool workers;

    public SluiceClient(ClientSettings settings, String identity) {
        this(settings, identity, null);
    }

    /**
     * A client announcing {@code identity} and proving {@code credential} (null: none) to the master and the
     * workers. With an application token, {@code identity} must be that application's id.
     */
    public SluiceClient(ClientSettings settings, String identity, Credential credential) {
        if (settings.codec < BatchHeader.CODEC_NONE || settings.codec > BatchHeader.CODEC_ZSTD) {
            throw new IllegalArgumentException("unknown codec " + settings.codec);
        }
        if (settings.mergedPushBytes <= 0 || settings.maxInFlightPushesTotal <= 0 || settings.fetchWindowChunks <= 0
                || settings.maxPushRetries < 0) {
            throw new IllegalArgumentException("mergedPushBytes, maxInFlightPushesTotal and fetchWindowChunks must be"
                    + " positive, maxPushRetries not negative");
        }
        this.settings = settings;
        this.identity = identity;
        this.master = new MasterClient(settings, identity, credential);
        this.workers = new ConnectionPool(new ConnectionSettings(settings.connectTimeoutMs, settings.requestTimeoutMs,
                settings.maxInFlightPushesPerWorker, settings.maxResponseBodyBytes), identity, credential);
    }

    public MasterClient master() {
        return master;
    }

    public String identity() {
        return identity;
    }

    /** One map task attempt's pushes; the session is used from one thread. */
    public PushSession newPushSession(String applicationId, int shuffleId, LocationTable table, int mapIndex,
                                      long attemptId) {
        return new PushSession(settings, master, workers, applicationId, shuffleId, table, mapIndex, attemptId);
    }

    /** A reader for one reduce task (or any reader); used from one thread. Asks for locations once, lazily. */
    public PartitionReader newReader(String applicationId, int shuffleId) {
        return new PartitionReader(settings, master, workers, applicationId, shuffleId);
    }

    /** Closes the master connection and every worker connection. */
    @Override
    public void close() {
        master.close();
        workers.close();
    }
}
