package org.apache.spark.shuffle.sluice.net;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.shuffle.sluice.auth.Credential;

/**
 * One shared {@link Connection} per {@code host:port}; a connection found dead is replaced by a new one on the next
 * {@link #get}. Thread-safe; connecting to one endpoint does not block callers of other endpoints.
 */
public final class ConnectionPool implements AutoCloseable {
    private final ConnectionSettings settings;
    private final String identity;
    private final Credential credential;
    private final Map<String, Connection> connections = new ConcurrentHashMap<>();
    private final Map<String, Object> connectLocks = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public ConnectionPool(ConnectionSettings settings, String identity) {
        this(settings, identity, null);
    }

    /** A pool whose connections prove {@code credential} (null: none). */
    public ConnectionPool(ConnectionSettings settings, String identity, Credential credential) {
        this.settings = settings;
        this.identity = identity;
        this.credential = credential;
    }

    /** A live connection to {@code host:port}, connecting (and handshaking) when there is none. */
    public Connection get(String host, int port) throws IOException {
        String endpoint = host + ":" + port;
        Connection existing = connections.get(endpoint);
        if (existing != null && existing.isOpen()) {
            return existing;
        }
        Object lock = connectLocks.computeIfAbsent(endpoint, key -> new Object());
        synchronized (lock) {
            if (closed) {
                throw new ConnectionException("connection pool closed");
            }
            existing = connections.get(endpoint);
            if (existing != null && existing.isOpen()) {
                return existing;
            }
            Connection fresh = Connection.open(host, port, settings, identity, credential);
            connections.put(endpoint, fresh);
            return fresh;
        }
    }

    /** Drops (and closes) {@code connection} if it is still the pooled one for its endpoint. */
    public void remove(Connection connection) {
        if (connections.remove(connection.endpoint(), connection)) {
            connection.close();
        }
    }

    /** Closes every connection. */
    @Override
    public void close() {
        closed = true;
        List<Connection> all = new ArrayList<>(connections.values());
        connections.clear();
        for (Connection connection : all) {
            connection.close();
        }
    }
}
