package org.apache.spark.shuffle.sluice.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.apache.spark.shuffle.sluice.protocol.BatchHeader;
import org.junit.jupiter.api.Test;

/** Winning attempts, repeats and completeness. */
class ReadFilterTest {
    private static BatchHeader batch(int map, long attempt, int sequence, boolean last) {
        return new BatchHeader(map, attempt, sequence, last ? BatchHeader.FLAG_LAST : 0, BatchHeader.CODEC_NONE, 0, 0, 0);
    }

    @Test
    void keepsWinnersDropsRepeatsAndLosers() {
        ReadFilter filter = new ReadFilter(Map.of(0, 10L, 1, 11L), Set.of(0));
        assertTrue(filter.accept(batch(0, 10, 0, false)));
        assertFalse(filter.accept(batch(0, 10, 0, false)));
        assertFalse(filter.accept(batch(0, 99, 1, true)));
        assertFalse(filter.accept(batch(5, 10, 0, true)));
        assertTrue(filter.accept(batch(0, 10, 1, true)));
        assertNull(filter.incompleteness());
        assertEquals(2, filter.keptBatches());
        assertEquals(1, filter.droppedDuplicate());
        assertEquals(2, filter.droppedLosingAttempt());
    }

    @Test
    void reportsGapsMissingLastAndMissingMaps() {
        ReadFilter gap = new ReadFilter(Map.of(0, 1L), Set.of());
        gap.accept(batch(0, 1, 0, false));
        gap.accept(batch(0, 1, 2, true));
        assertTrue(gap.incompleteness().contains("missing batch sequences [1]"), gap.incompleteness());

        ReadFilter noLast = new ReadFilter(Map.of(0, 1L), Set.of());
        noLast.accept(batch(0, 1, 0, false));
        assertTrue(noLast.incompleteness().contains("last batch never arrived"));

        ReadFilter missing = new ReadFilter(Map.of(0, 1L, 1, 2L), Set.of(1));
        missing.accept(batch(0, 1, 0, true));
        assertNotNull(missing.incompleteness());

        ReadFilter afterLast = new ReadFilter(Map.of(0, 1L), Set.of());
        afterLast.accept(batch(0, 1, 0, true));
        afterLast.accept(batch(0, 1, 1, false));
        assertNotNull(afterLast.incompleteness());
    }
}
