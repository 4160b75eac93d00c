package org.apache.spark.shuffle.sluice.client;

import org.apache.spark.shuffle.sluice.protocol.Batch;

/** One batch on its way to a worker: the location it is sent to and how often it was resent. Immutable. */
final class OutgoingBatch {
    final int partitionId;
    final Batch batch;
    /** The partition location (epoch, primary, replica) this send targets. */
    final PartitionLocation location;
    final int attempts;

    OutgoingBatch(int partitionId, Batch batch, PartitionLocation location, int attempts) {
        this.partitionId = partitionId;
        this.batch = batch;
        this.location = location;
        this.attempts = attempts;
    }

    OutgoingBatch retarget(PartitionLocation newLocation, int newAttempts) {
        return new OutgoingBatch(partitionId, batch, newLocation, newAttempts);
    }
}
