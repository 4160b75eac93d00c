package org.apache.spark.shuffle.sluice;

import org.apache.spark.SparkConf;
import org.apache.spark.shuffle.BlockingShuffleManager;
import org.apache.spark.shuffle.ShuffleManager;

/**
 * The class users name in {@code spark.shuffle.manager}: {@code org.apache.spark.shuffle.sluice.SluiceShuffleManager}.
 *
 * <p>Spark 4.3 accepts only shuffle managers implementing {@link BlockingShuffleManager} (an interface new in 4.3 that
 * adds nothing but {@code shuffleBlockResolver()}, which every earlier ShuffleManager already declares). This class is
 * therefore compiled against Spark 4.3. Spark 3.5 to 4.2 have no such interface, so the JVM could not load this class
 * there; both Sluice jars also carry a declaration of {@code org.apache.spark.shuffle.BlockingShuffleManager} identical
 * to 4.3's (src/compat). See docs/spark.md, "One jar for every Spark 4.x minor".
 */
public final class SluiceShuffleManager extends SluiceShuffleManagerBase implements BlockingShuffleManager {
    /** Spark's constructor for shuffle managers: the application's SparkConf and whether this JVM is the driver. */
    public SluiceShuffleManager(SparkConf conf, boolean isDriver) {
        super(conf, isDriver);
        checkInterfaceLoader(BlockingShuffleManager.class, ShuffleManager.class);
    }

    /**
     * Fails with an explanation when the jar's copy of {@code BlockingShuffleManager} was loaded beside a different one
     * that Spark's own class loader sees (Spark 4.3 with {@code spark.*.userClassPathFirst}): Spark's check would then
     * reject this manager with a message that does not say why.
     */
    static void checkInterfaceLoader(Class<?> blocking, Class<?> shuffleManager) {
        ClassLoader ours = blocking.getClassLoader();
        ClassLoader spark = shuffleManager.getClassLoader();
        if (ours == spark || spark == null) {
            return;
        }
        try {
            Class<?> sparks = Class.forName(blocking.getName(), false, spark);
            if (sparks != blocking) {
                throw new IllegalStateException("Sluice: this Spark has its own " + blocking.getName()
                        + ", but the Sluice jar's copy was loaded first (spark.driver/executor.userClassPathFirst?)."
                        + " Put the Sluice jar on spark.driver.extraClassPath and spark.executor.extraClassPath, or"
                        + " turn userClassPathFirst off.");
            }
        } catch (ClassNotFoundException absent) {
            // Spark 3.5 to 4.2: the jar's copy is the only one.
        }
    }
}
