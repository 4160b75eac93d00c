package org.apache.spark.shuffle;

/**
 * IN THE SPARK 3.5 JAR ONLY (sluice-spark-3.5_2.12-VERSION.jar): Spark 4.3's interface of the same name, declared
 * identically, so that {@code org.apache.spark.shuffle.sluice.SluiceShuffleManager} (compiled against Spark 4.3) can be
 * loaded by Spark 3.5, which has no such interface. The Spark 4 jar leaves it out: Spark 4.3 ships the real one.
 */
public interface BlockingShuffleManager extends ShuffleManager {
    ShuffleBlockResolver shuffleBlockResolver();
}
