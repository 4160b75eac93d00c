package org.apache.spark.shuffle;

/**
 * FOR SPARK 3.5 ONLY (sluice-spark35-compat.jar): Spark 4.3's interface of the same name, declared identically, so that
 * {@code org.apache.spark.shuffle.sluice.SluiceShuffleManager} (compiled against Spark 4.3) can be loaded by Spark 3.5,
 * which has no such interface. Never put this jar on a Spark 4.x class path: Spark 4.x ships the real interface.
 */
public interface BlockingShuffleManager extends ShuffleManager {
    ShuffleBlockResolver shuffleBlockResolver();
}
