package org.apache.spark.shuffle.sluice.protocol;

import java.util.Objects;

/** One shuffle of one application: {@code applicationId string | shuffleId u32}. */
public final class ShuffleKey {
    public final String applicationId;
    public final int shuffleId;

    public ShuffleKey(String applicationId, int shuffleId) {
        if (applicationId == null || applicationId.isEmpty()) {
            throw new IllegalArgumentException("empty application id");
        }
        this.applicationId = applicationId;
        this.shuffleId = shuffleId;
    }

    public void encode(WireWriter writer) {
        writer.writeString(applicationId).writeU32(shuffleId & 0xFFFFFFFFL);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ShuffleKey && ((ShuffleKey) other).applicationId.equals(applicationId)
                && ((ShuffleKey) other).shuffleId == shuffleId;
    }

    @Override
    public int hashCode() {
        return Objects.hash(applicationId, shuffleId);
    }

    @Override
    public String toString() {
        return applicationId + "/" + shuffleId;
    }
}
