package org.apache.spark.shuffle.sluice.client;

import java.io.Serializable;
import java.util.Objects;

/** Where one epoch of one partition lives: its primary and, with replication, its replica (either may be null). */
public final class PartitionLocation implements Serializable {
    private static final long serialVersionUID = 1L;

    public final int partitionId;
    public final int epoch;
    public final WorkerAddress primary;
    public final WorkerAddress replica;

    public PartitionLocation(int partitionId, int epoch, WorkerAddress primary, WorkerAddress replica) {
        if (primary == null && replica == null) {
            throw new IllegalArgumentException("partition " + partitionId + " epoch " + epoch + " has no worker");
        }
        this.partitionId = partitionId;
        this.epoch = epoch;
        this.primary = primary;
        this.replica = replica;
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof PartitionLocation)) {
            return false;
        }
        PartitionLocation that = (PartitionLocation) other;
        return partitionId == that.partitionId && epoch == that.epoch && Objects.equals(primary, that.primary)
                && Objects.equals(replica, that.replica);
    }

    @Override
    public int hashCode() {
        return Objects.hash(partitionId, epoch, primary, replica);
    }

    @Override
    public String toString() {
        return "partition " + partitionId + " epoch " + epoch + " (primary " + primary + ", replica " + replica + ")";
    }
}
