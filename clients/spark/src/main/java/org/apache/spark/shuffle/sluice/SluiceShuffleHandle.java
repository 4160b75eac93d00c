package org.apache.spark.shuffle.sluice;

import org.apache.spark.ShuffleDependency;
import org.apache.spark.shuffle.BaseShuffleHandle;

/**
 * The handle of one Sluice shuffle, created on the driver by {@code registerShuffle} and shipped to every task inside
 * the {@link ShuffleDependency}. It carries what tasks need without asking the driver: the application id the master
 * knows the shuffle by, the map and reduce partition counts, and the encoded LocationTable the master handed out
 * (which worker holds each partition's primary and replica), so map tasks push without asking the master first, and
 * the shuffle's {@link WorkerTimesAccumulator}, which tasks add their per-worker push and fetch figures to.
 */
public final class SluiceShuffleHandle<K, V, C> extends BaseShuffleHandle<K, V, C> {
    private static final long serialVersionUID = 1L;

    private final String applicationId;
    private final int numMappers;
    private final int numPartitions;
    /** {@code LocationTable.encode()}; empty when the shuffle has no reduce partitions. */
    private final byte[] encodedLocationTable;
    /** The application's token with a secured cluster (executors prove it to the workers), else empty. */
    private final byte[] applicationToken;
    /** Registered on the driver; each task's deserialized copy carries that task's figures back. */
    private final WorkerTimesAccumulator workerTimes;

    public SluiceShuffleHandle(int shuffleId, ShuffleDependency<K, V, C> dependency, String applicationId,
                               int numMappers, int numPartitions, byte[] encodedLocationTable,
                               byte[] applicationToken, WorkerTimesAccumulator workerTimes) {
        super(shuffleId, dependency);
        this.applicationId = applicationId;
        this.numMappers = numMappers;
        this.numPartitions = numPartitions;
        this.encodedLocationTable = encodedLocationTable.clone();
        this.applicationToken = applicationToken == null ? new byte[0] : applicationToken.clone();
        this.workerTimes = workerTimes;
    }

    /** The shuffle's per-worker push and fetch figures (this task's copy on an executor). */
    public WorkerTimesAccumulator workerTimes() {
        return workerTimes;
    }

    /** The application's token; empty when the cluster has no secret. */
    public byte[] applicationToken() {
        return applicationToken.clone();
    }

    public String applicationId() {
        return applicationId;
    }

    public int numMappers() {
        return numMappers;
    }

    public int numPartitions() {
        return numPartitions;
    }

    public byte[] encodedLocationTable() {
        return encodedLocationTable.clone();
    }

    @Override
    public String toString() {
        return "SluiceShuffleHandle(shuffle " + shuffleId() + " of " + applicationId + ", " + numMappers + " maps, "
                + numPartitions + " partitions, table " + encodedLocationTable.length + " bytes"
                + (applicationToken.length > 0 ? ", token redacted)" : ")");
    }
}
