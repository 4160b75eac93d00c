package org.apache.spark.shuffle.sluice;

import org.apache.spark.ShuffleDependency;

/**
 * Spark 4.1+'s order-independent row checksum of one map task's output (SPARK-51756), kept as Spark's own shuffle
 * writers keep it: every record the task is given, before any map-side combine, updates the checksum of its reduce
 * partition ({@code RowBasedChecksum.update(key, value)} of the dependency's {@code rowBasedChecksums()}), and the
 * MapStatus carries {@code RowBasedChecksum.getAggregatedChecksumValue} of them all. Spark compares that value between
 * attempts of the same map task to detect nondeterministic output. Without checksums (queries that do not ask for them,
 * RDD shuffles, Spark 3.5 and 4.0) it does nothing and the value is 0.
 */
final class RowChecksums {
    private final Object[] checksums;

    private RowChecksums(Object[] checksums) {
        this.checksums = checksums;
    }

    /** The dependency's checksums (none before Spark 4.1 or when the query does not compute them). */
    static RowChecksums of(ShuffleDependency<?, ?, ?> dependency) {
        return new RowChecksums(SparkCompat.rowChecksums(dependency));
    }

    /** Whether there is anything to update. */
    boolean enabled() {
        return checksums.length > 0;
    }

    /** Adds one record of reduce partition {@code partitionId}; call only when {@link #enabled()}. */
    void update(int partitionId, Object key, Object value) {
        SparkCompat.updateRowChecksum(checksums[partitionId], key, value);
    }

    /** The value for the MapStatus (Spark's aggregation of the partitions' checksums; 0 without checksums). */
    long value() {
        return SparkCompat.aggregatedRowChecksum(checksums);
    }
}
