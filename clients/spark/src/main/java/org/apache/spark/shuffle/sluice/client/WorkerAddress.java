package org.apache.spark.shuffle.sluice.client;

import java.io.Serializable;
import java.util.Objects;
import org.apache.spark.shuffle.sluice.protocol.MalformedMessageException;
import org.apache.spark.shuffle.sluice.protocol.WireReader;
import org.apache.spark.shuffle.sluice.protocol.WireWriter;

/** A worker's data endpoint: {@code workerId string | host string | port u16}. Immutable. */
public final class WorkerAddress implements Serializable {
    private static final long serialVersionUID = 1L;

    public final String workerId;
    public final String host;
    public final int port;

    public WorkerAddress(String workerId, String host, int port) {
        this.workerId = Objects.requireNonNull(workerId, "workerId");
        this.host = Objects.requireNonNull(host, "host");
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("port " + port);
        }
        this.port = port;
    }

    /** {@code host:port}. */
    public String endpoint() {
        return host + ":" + port;
    }

    /**
     * How logs name the worker: {@code host:port} when the worker id is empty or that same text (the default id),
     * else {@code workerId (host:port)}.
     */
    public String displayName() {
        String endpoint = endpoint();
        return workerId.isEmpty() || workerId.equals(endpoint) ? endpoint : workerId + " (" + endpoint + ")";
    }

    void encode(WireWriter writer) {
        writer.writeString(workerId).writeString(host).writeU16(port);
    }

    static WorkerAddress decode(WireReader reader) throws MalformedMessageException {
        return new WorkerAddress(reader.readString("workerId"), reader.readString("host"), reader.readU16("port"));
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof WorkerAddress)) {
            return false;
        }
        WorkerAddress that = (WorkerAddress) other;
        return workerId.equals(that.workerId) && host.equals(that.host) && port == that.port;
    }

    @Override
    public int hashCode() {
        return Objects.hash(workerId, host, port);
    }

    @Override
    public String toString() {
        return workerId + "@" + endpoint();
    }
}
