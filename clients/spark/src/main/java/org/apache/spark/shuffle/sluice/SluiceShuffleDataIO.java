package org.apache.spark.shuffle.sluice;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.shuffle.api.ShuffleDataIO;
import org.apache.spark.shuffle.api.ShuffleDriverComponents;
import org.apache.spark.shuffle.api.ShuffleExecutorComponents;
import org.apache.spark.shuffle.sort.io.LocalDiskShuffleDataIO;

/**
 * Spark's shuffle storage plugin ({@code spark.shuffle.sort.io.plugin.class}) for applications using Sluice. Its only
 * purpose is that the driver components report {@code supportsReliableStorage() == true}: shuffle data lives on the
 * Sluice workers, not on executors, so dynamic allocation may remove executors without the external shuffle service
 * or shuffle tracking. Everything else delegates to Spark's {@link LocalDiskShuffleDataIO} (Sluice's writer does not
 * use the executor components at all).
 *
 * <p>{@link SluiceShuffleManagerBase} sets the plugin on the driver when the user did not choose one: Spark creates
 * the shuffle manager before it loads this plugin (checked on 3.5 and 4.3).
 */
public final class SluiceShuffleDataIO implements ShuffleDataIO {
    private final LocalDiskShuffleDataIO localDisk;

    public SluiceShuffleDataIO(SparkConf conf) {
        this.localDisk = new LocalDiskShuffleDataIO(conf);
    }

    @Override
    public ShuffleExecutorComponents executor() {
        return localDisk.executor();
    }

    @Override
    public ShuffleDriverComponents driver() {
        return new ReliableDriverComponents(localDisk.driver());
    }

    /** Spark's local-disk driver components, reporting reliable storage. */
    private static final class ReliableDriverComponents implements ShuffleDriverComponents {
        private final ShuffleDriverComponents delegate;

        ReliableDriverComponents(ShuffleDriverComponents delegate) {
            this.delegate = delegate;
        }

        @Override
        public Map<String, String> initializeApplication() {
            return delegate.initializeApplication();
        }

        @Override
        public void cleanupApplication() {
            delegate.cleanupApplication();
        }

        @Override
        public void registerShuffle(int shuffleId) {
            delegate.registerShuffle(shuffleId);
        }

        /** Spark's removal reaches every block manager, whose shuffle manager then unregisters the shuffle. */
        @Override
        public void removeShuffle(int shuffleId, boolean blocking) {
            delegate.removeShuffle(shuffleId, blocking);
        }

        @Override
        public boolean supportsReliableStorage() {
            return true;
        }
    }
}
