package org.apache.spark.shuffle.sluice;

import org.apache.spark.SparkConf;
import org.apache.spark.shuffle.BlockingShuffleManager;

/**
 * The class users name in {@code spark.shuffle.manager}: {@code org.apache.spark.shuffle.sluice.SluiceShuffleManager}.
 *
 * <p>Spark 4.3 accepts only shuffle managers implementing {@link BlockingShuffleManager} (an interface new in 4.3 that
 * adds nothing but {@code shuffleBlockResolver()}, which Spark 3.5's ShuffleManager already declares). This class is
 * therefore compiled against Spark 4.3. On Spark 3.5 the interface does not exist, so the JVM could not load this
 * class; there the Spark 3.5 jar ({@code sluice-spark-3.5_2.12-VERSION.jar}) also carries a declaration of
 * {@code org.apache.spark.shuffle.BlockingShuffleManager} identical to 4.3's. The Spark 4 jar does not (it would shadow
 * Spark's own interface). See docs/spark.md.
 */
public final class SluiceShuffleManager extends SluiceShuffleManagerBase implements BlockingShuffleManager {
    /** Spark's constructor for shuffle managers: the application's SparkConf and whether this JVM is the driver. */
    public SluiceShuffleManager(SparkConf conf, boolean isDriver) {
        super(conf, isDriver);
    }
}
