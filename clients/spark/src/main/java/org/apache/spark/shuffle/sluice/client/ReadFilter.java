package org.apache.spark.shuffle.sluice.client;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.shuffle.sluice.protocol.BatchHeader;

/**
 * Decides batch by batch what a reader keeps, and at the end whether what it kept is complete. Keeps only batches
 * of the winning attempt of each map, drops repeated (map, attempt, sequence) — retried pushes, or the same batch
 * read again from a replica after a fail-over — and at {@link #finish} requires, for each winning attempt, sequences
 * 0..n with the last flag on n, or nothing at all for a map not known to be non-empty. One thread.
 */
final class ReadFilter {
    private final Map<Integer, Long> winners;
    private final Set<Integer> nonEmptyMaps;
    private final Map<Integer, Progress> progress = new HashMap<>();
    private long keptBatches;
    private long droppedLosingAttempt;
    private long droppedDuplicate;

    /** Sequences seen for one winning attempt. */
    private static final class Progress {
        final BitSet sequences = new BitSet();
        int lastSequence = -1;
    }

    ReadFilter(Map<Integer, Long> winners, Set<Integer> nonEmptyMaps) {
        this.winners = winners;
        this.nonEmptyMaps = nonEmptyMaps;
    }

    /** Whether {@link #accept} would keep this batch (no state change). */
    boolean wants(BatchHeader header) {
        Long winner = winners.get(header.mapIndex);
        if (winner == null || winner != header.attemptId || header.sequence < 0) {
            return false;
        }
        Progress entry = progress.get(header.mapIndex);
        return entry == null || !entry.sequences.get(header.sequence);
    }

    /** Records a verified, decoded batch; returns whether to hand it to the consumer. */
    boolean accept(BatchHeader header) {
        Long winner = winners.get(header.mapIndex);
        if (winner == null || winner != header.attemptId || header.sequence < 0) {
            droppedLosingAttempt++;
            return false;
        }
        Progress entry = progress.computeIfAbsent(header.mapIndex, key -> new Progress());
        if (entry.sequences.get(header.sequence)) {
            droppedDuplicate++;
            return false;
        }
        entry.sequences.set(header.sequence);
        if (header.isLast()) {
            entry.lastSequence = header.sequence;
        }
        keptBatches++;
        return true;
    }

    /** Null when complete, else what is missing. */
    String incompleteness() {
        for (Integer mapIndex : new TreeSet<>(winners.keySet())) {
            Progress entry = progress.get(mapIndex);
            if (entry == null) {
                if (nonEmptyMaps.contains(mapIndex)) {
                    return "map " + mapIndex + ": no batch of winning attempt " + winners.get(mapIndex);
                }
                continue;
            }
            if (entry.lastSequence < 0) {
                return "map " + mapIndex + " attempt " + winners.get(mapIndex) + ": the last batch never arrived ("
                        + entry.sequences.cardinality() + " seen)";
            }
            int last = entry.lastSequence;
            if (entry.sequences.cardinality() != last + 1 || entry.sequences.length() != last + 1) {
                List<Integer> missing = new ArrayList<>();
                for (int sequence = entry.sequences.nextClearBit(0); sequence <= last && missing.size() < 5;
                     sequence = entry.sequences.nextClearBit(sequence + 1)) {
                    missing.add(sequence);
                }
                return "map " + mapIndex + " attempt " + winners.get(mapIndex) + ": missing batch sequences "
                        + missing + " of 0.." + last + (entry.sequences.length() > last + 1
                        ? " (and sequences after the last)" : "");
            }
        }
        return null;
    }

    long keptBatches() {
        return keptBatches;
    }

    long droppedLosingAttempt() {
        return droppedLosingAttempt;
    }

    long droppedDuplicate() {
        return droppedDuplicate;
    }
}
