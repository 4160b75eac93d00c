package org.apache.spark.shuffle.sluice.client;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.shuffle.sluice.protocol.MalformedMessageException;
import org.apache.spark.shuffle.sluice.protocol.WireReader;
import org.apache.spark.shuffle.sluice.protocol.WireWriter;

/**
 * The protocol's LocationTable: {@code list<WorkerAddress> | list<partitionId u32 | epoch u32 | primaryIndex u16 |
 * replicaIndex u16>} with index 0xFFFF for none. Immutable; serializable so it can ride in a ShuffleHandle.
 */
public final class LocationTable implements Serializable {
    private static final long serialVersionUID = 1L;
    /** The worker index meaning "no worker". */
    static final int NO_WORKER = 0xFFFF;
    /** The most workers a table can index. */
    static final int MAX_WORKERS = 0xFFFE;

    private final List<PartitionLocation> locations;

    public LocationTable(List<PartitionLocation> locations) {
        this.locations = Collections.unmodifiableList(new ArrayList<>(locations));
    }

    /** Every location, in table order. */
    public List<PartitionLocation> locations() {
        return locations;
    }

    /** The protocol encoding (workers listed once, by worker id). */
    public byte[] encode() {
        WireWriter writer = new WireWriter(64 + locations.size() * 12);
        encode(writer);
        return writer.toByteArray();
    }

    void encode(WireWriter writer) {
        List<WorkerAddress> workers = new ArrayList<>();
        Map<String, Integer> indexById = new HashMap<>();
        int[][] indexes = new int[locations.size()][2];
        for (int i = 0; i < locations.size(); i++) {
            PartitionLocation location = locations.get(i);
            indexes[i][0] = indexOf(location.primary, workers, indexById);
            indexes[i][1] = indexOf(location.replica, workers, indexById);
        }
        writer.writeU32(workers.size());
        for (WorkerAddress worker : workers) {
            worker.encode(writer);
        }
        writer.writeU32(locations.size());
        for (int i = 0; i < locations.size(); i++) {
            PartitionLocation location = locations.get(i);
            writer.writeU32(location.partitionId & 0xFFFFFFFFL).writeU32(location.epoch & 0xFFFFFFFFL)
                    .writeU16(indexes[i][0]).writeU16(indexes[i][1]);
        }
    }

    private static int indexOf(WorkerAddress worker, List<WorkerAddress> workers, Map<String, Integer> indexById) {
        if (worker == null) {
            return NO_WORKER;
        }
        Integer existing = indexById.get(worker.workerId);
        if (existing != null) {
            return existing;
        }
        if (workers.size() >= MAX_WORKERS) {
            throw new IllegalStateException("location table over " + MAX_WORKERS + " workers");
        }
        workers.add(worker);
        indexById.put(worker.workerId, workers.size() - 1);
        return workers.size() - 1;
    }

    /** Decodes a whole encoded table; trailing bytes are malformed. */
    public static LocationTable decode(byte[] bytes) throws IOException {
        WireReader reader = new WireReader(bytes);
        LocationTable table = decode(reader);
        reader.expectEnd("location table");
        return table;
    }

    static LocationTable decode(WireReader reader) throws MalformedMessageException {
        int workerCount = reader.readCount("table.workers", 6);
        if (workerCount > MAX_WORKERS) {
            throw new MalformedMessageException("too many workers: " + workerCount);
        }
        List<WorkerAddress> workers = new ArrayList<>(workerCount);
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < workerCount; i++) {
            WorkerAddress worker = WorkerAddress.decode(reader);
            if (seen.put(worker.workerId, i) != null) {
                throw new MalformedMessageException("worker " + worker.workerId + " listed twice");
            }
            workers.add(worker);
        }
        int entryCount = reader.readCount("table.entries", 12);
        List<PartitionLocation> locations = new ArrayList<>(entryCount);
        for (int i = 0; i < entryCount; i++) {
            int partitionId = (int) reader.readU32("partitionId");
            int epoch = (int) reader.readU32("epoch");
            int primaryIndex = reader.readU16("primaryIndex");
            int replicaIndex = reader.readU16("replicaIndex");
            if ((primaryIndex != NO_WORKER && primaryIndex >= workerCount)
                    || (replicaIndex != NO_WORKER && replicaIndex >= workerCount)
                    || (primaryIndex == NO_WORKER && replicaIndex == NO_WORKER)) {
                throw new MalformedMessageException("location entry " + i + " refers to a worker index out of range");
            }
            locations.add(new PartitionLocation(partitionId, epoch,
                    primaryIndex == NO_WORKER ? null : workers.get(primaryIndex),
                    replicaIndex == NO_WORKER ? null : workers.get(replicaIndex)));
        }
        return new LocationTable(locations);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof LocationTable && ((LocationTable) other).locations.equals(locations);
    }

    @Override
    public int hashCode() {
        return locations.hashCode();
    }

    @Override
    public String toString() {
        return "LocationTable(" + locations.size() + " locations)";
    }
}
