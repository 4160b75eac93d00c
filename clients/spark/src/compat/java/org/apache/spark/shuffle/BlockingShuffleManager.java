package org.apache.spark.shuffle;

/**
 * IN BOTH SLUICE JARS, FOR SPARK 3.5 TO 4.2: Spark 4.3's interface of the same name, declared identically, so that
 * {@code org.apache.spark.shuffle.sluice.SluiceShuffleManager} (compiled against Spark 4.3, which accepts only shuffle
 * managers implementing it) can be loaded by Spark versions that have no such interface. On Spark 4.3 Spark's own
 * declaration is used when the jar comes through {@code spark.jars} (parent-first class loading); on a class path
 * where this copy comes first it stands in for Spark's, which declares exactly this. See docs/spark.md, "One jar for
 * every Spark 4.x minor".
 */
public interface BlockingShuffleManager extends ShuffleManager {
    ShuffleBlockResolver shuffleBlockResolver();
}
