package org.apache.spark.shuffle.sluice.client;

import java.io.IOException;
import java.util.List;
import org.apache.spark.shuffle.sluice.auth.Credential;
import org.apache.spark.shuffle.sluice.net.Connection;
import org.apache.spark.shuffle.sluice.net.ConnectionException;
import org.apache.spark.shuffle.sluice.net.ConnectionSettings;
import org.apache.spark.shuffle.sluice.protocol.Frame;
import org.apache.spark.shuffle.sluice.protocol.Messages;
import org.apache.spark.shuffle.sluice.protocol.MessageType;
import org.apache.spark.shuffle.sluice.protocol.ProtocolException;
import org.apache.spark.shuffle.sluice.protocol.ResponseHead;
import org.apache.spark.shuffle.sluice.protocol.ShuffleKey;
import org.apache.spark.shuffle.sluice.protocol.StatusCode;
import org.apache.spark.shuffle.sluice.protocol.WireReader;

/**
 * Talks to the master: shuffle registration, locations, revive, application heartbeats and clean-up. Connects
 * lazily; a request that fails because the connection broke is sent once more on a new connection. A status other
 * than ok is thrown as a {@link ProtocolException} carrying the status. Thread-safe.
 */
public final class MasterClient {
    private final String host;
    private final int port;
    private final String identity;
    private final Credential credential;
    private final ConnectionSettings settings;
    private Connection connection;

    /** A master client announcing {@code identity} and proving {@code credential} (null: none). */
    public MasterClient(ClientSettings settings, String identity, Credential credential) {
        this.host = settings.masterHost;
        this.port = settings.masterPort;
        this.identity = identity;
        this.credential = credential;
        this.settings = new ConnectionSettings(settings.connectTimeoutMs, settings.requestTimeoutMs, 64,
                settings.maxResponseBodyBytes);
    }

    private synchronized Connection connected() throws IOException {
        if (connection == null || !connection.isOpen()) {
            connection = Connection.open(host, port, settings, identity, credential);
        }
        return connection;
    }

    private synchronized void drop(Connection broken) {
        if (connection == broken) {
            connection = null;
        }
        broken.close();
    }

    /** Sends one request; reconnects and sends it again once if the connection broke. */
    private Frame call(int type, byte[] body) throws IOException {
        Connection first = connected();
        try {
            return first.call(type, body);
        } catch (ConnectionException e) {
            drop(first);
            try {
                return connected().call(type, body);
            } catch (IOException retry) {
                retry.addSuppressed(e);
                throw retry;
            }
        }
    }

    private LocationTable table(int type, byte[] body, String what) throws IOException {
        byte[] reply = call(type, body).body;
        WireReader reader = new WireReader(reply);
        ResponseHead head = ResponseHead.decode(reader);
        head.requireOk(what + " at master " + host + ":" + port);
        LocationTable table = LocationTable.decode(reader);
        reader.expectEnd(what + " response");
        return table;
    }

    private void status(int type, byte[] body, String what) throws IOException {
        Messages.decodeStatus(call(type, body).body).requireOk(what + " at master " + host + ":" + port);
    }

    /** Registers (idempotently) a shuffle and returns the newest epoch of every partition. */
    public LocationTable registerShuffle(String applicationId, int shuffleId, int numMappers, int numPartitions,
                                         boolean replicate) throws IOException {
        ShuffleKey key = new ShuffleKey(applicationId, shuffleId);
        return table(MessageType.REGISTER_SHUFFLE, Messages.registerShuffle(key, numMappers, numPartitions, replicate),
                "registerShuffle " + key);
    }

    /** Every epoch of every partition that has one. */
    public List<PartitionLocation> getLocations(String applicationId, int shuffleId) throws IOException {
        ShuffleKey key = new ShuffleKey(applicationId, shuffleId);
        return table(MessageType.GET_LOCATIONS, Messages.shuffleKey(key), "getLocations " + key).locations();
    }

    /** A location of {@code partitionId} newer than {@code failedEpoch}, away from {@code failedWorkerId}. */
    public PartitionLocation revive(String applicationId, int shuffleId, int partitionId, int failedEpoch,
                                    String failedWorkerId) throws IOException {
        ShuffleKey key = new ShuffleKey(applicationId, shuffleId);
        String what = "revive of partition " + partitionId + " epoch " + failedEpoch + " of " + key;
        List<PartitionLocation> locations = table(MessageType.REVIVE,
                Messages.revive(key, partitionId, failedEpoch, failedWorkerId == null ? "" : failedWorkerId), what)
                .locations();
        if (locations.isEmpty() || locations.get(0).primary == null) {
            throw new ProtocolException(StatusCode.INTERNAL_ERROR, what + " returned no location with a primary");
        }
        return locations.get(0);
    }

    public void applicationHeartbeat(String applicationId) throws IOException {
        status(MessageType.APPLICATION_HEARTBEAT, Messages.application(applicationId),
                "applicationHeartbeat " + applicationId);
    }

    public void unregisterShuffle(String applicationId, int shuffleId) throws IOException {
        ShuffleKey key = new ShuffleKey(applicationId, shuffleId);
        status(MessageType.UNREGISTER_SHUFFLE, Messages.shuffleKey(key), "unregisterShuffle " + key);
    }

    /**
     * Registers the application and returns its token (empty when the cluster has no secret). With a cluster secret,
     * a client holding the client secret gets the token of an application nobody registered yet.
     */
    public byte[] registerApplication(String applicationId) throws IOException {
        Frame reply = call(MessageType.REGISTER_APPLICATION, Messages.application(applicationId));
        WireReader reader = new WireReader(reply.body);
        ResponseHead head = ResponseHead.decode(reader);
        head.requireOk("registerApplication " + applicationId);
        return reader.readBlob("token");
    }

    public void unregisterApplication(String applicationId) throws IOException {
        status(MessageType.UNREGISTER_APPLICATION, Messages.application(applicationId),
                "unregisterApplication " + applicationId);
    }

    public synchronized void close() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }
}
