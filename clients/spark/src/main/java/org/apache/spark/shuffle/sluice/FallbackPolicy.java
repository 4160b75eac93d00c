package org.apache.spark.shuffle.sluice;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.spark.shuffle.sluice.protocol.ProtocolException;
import org.apache.spark.shuffle.sluice.protocol.StatusCode;

/**
 * When a shuffle falls back to Spark's own sort shuffle ({@code spark.sluice.fallback=auto}): the master cannot be
 * reached, has no live worker, refuses the shuffle at one of its limits, or the shuffle has more reduce partitions than
 * {@code spark.sluice.fallback.maxPartitions}. A wrong credential or a bad argument never falls back: those are
 * configuration errors that a silent fallback would hide.
 */
final class FallbackPolicy {
    private final boolean enabled;
    private final int maxPartitions;

    FallbackPolicy(boolean enabled, int maxPartitions) {
        this.enabled = enabled;
        this.maxPartitions = maxPartitions;
    }

    boolean isEnabled() {
        return enabled;
    }

    /** Why a shuffle of {@code numPartitions} reduce partitions skips Sluice before asking the master, or null. */
    String reasonBeforeRegistering(int numPartitions) {
        if (enabled && numPartitions > maxPartitions) {
            return numPartitions + " reduce partitions exceed " + SluiceConf.FALLBACK_MAX_PARTITIONS + " ("
                    + maxPartitions + ")";
        }
        return null;
    }

    /** Why registering failed in a way that allows falling back, or null when the failure must fail the job. */
    String reasonAfterFailure(RuntimeException failure) {
        if (!enabled) {
            return null;
        }
        Throwable cause = failure instanceof UncheckedIOException ? failure.getCause() : failure;
        if (cause instanceof ProtocolException) {
            int status = ((ProtocolException) cause).status();
            switch (status) {
                case StatusCode.NO_WORKERS:
                case StatusCode.LIMIT_EXCEEDED:
                case StatusCode.SHUTTING_DOWN:
                    return "the master answered " + StatusCode.name(status) + ": " + cause.getMessage();
                default:
                    return null;
            }
        }
        if (cause instanceof IOException) {
            return "the master cannot be reached: " + cause.getMessage();
        }
        return null;
    }
}
