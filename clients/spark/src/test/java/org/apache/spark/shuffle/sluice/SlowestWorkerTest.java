package org.apache.spark.shuffle.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The driver log's slowest-worker text: who is named, with which figures, and the median of the others. */
class SlowestWorkerTest {
    private static final long MIB = 1 << 20;
    private static final long SECOND = 1_000_000_000L;

    private static WorkerFigures push(double seconds, long mib) {
        return new WorkerFigures((long) (seconds * SECOND), mib * MIB, 0, 0);
    }

    private static WorkerFigures fetch(double seconds, long mib) {
        return new WorkerFigures(0, 0, (long) (seconds * SECOND), mib * MIB);
    }

    @Test
    void namesTheWorkerWithTheMostTimePerByteAndTheMedianOfTheOthers() {
        Map<String, WorkerFigures> figures = Map.of("w-1", push(0.3, 41), "w-2", push(1.8, 40), "w-3", push(0.5, 60));
        assertEquals("Sluice shuffle 3 push: slowest worker w-2 (1.80 s for 40.0 MiB, 22.2 MiB/s; median of 2 others "
                + "0.40 s for 50.5 MiB, 127.8 MiB/s; 5.8x their time per byte)",
                SlowestWorker.summary(3, true, figures));
    }

    @Test
    void timePerByteNotTotalTimeDecides() {
        // w-big took longest in total but moved far more: w-small is the slow one.
        Map<String, WorkerFigures> figures = Map.of("w-big", push(2.0, 400), "w-small", push(1.0, 10),
                "w-mid", push(1.0, 200));
        assertTrue(SlowestWorker.summary(0, true, figures).startsWith("Sluice shuffle 0 push: slowest worker w-small "),
                SlowestWorker.summary(0, true, figures));
    }

    @Test
    void sidesAreSeparate() {
        Map<String, WorkerFigures> figures = Map.of("a", push(1.0, 10).plus(fetch(0.1, 10)),
                "b", push(0.1, 10).plus(fetch(1.0, 10)));
        assertTrue(SlowestWorker.summary(7, true, figures).startsWith("Sluice shuffle 7 push: slowest worker a ("));
        assertTrue(SlowestWorker.summary(7, false, figures).startsWith("Sluice shuffle 7 fetch: slowest worker b ("));
        assertNull(SlowestWorker.summary(7, false, Map.of("a", push(1.0, 10))));
        assertNull(SlowestWorker.summary(7, true, Map.of()));
    }

    @Test
    void aWorkerThatTookTimeForNoBytesIsTheSlowest() {
        Map<String, WorkerFigures> figures = Map.of("dead", push(0.5, 0), "ok", push(5.0, 10));
        assertEquals("Sluice shuffle 1 push: slowest worker dead (0.50 s for 0 B, no bytes; median of 1 other 5.00 s "
                + "for 10.0 MiB, 2.0 MiB/s)", SlowestWorker.summary(1, true, figures));
    }

    @Test
    void aSingleWorkerHasNoOthers() {
        assertEquals("Sluice shuffle 2 fetch: slowest worker w (0.50 s for 1.0 MiB, 2.0 MiB/s; no other worker)",
                SlowestWorker.summary(2, false, Map.of("w", fetch(0.5, 1))));
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(2.5, SlowestWorker.median(new double[] {4, 1, 3, 2}));
        assertEquals(3.0, SlowestWorker.median(new double[] {5, 3, 1}));
    }

    @Test
    void tableListsEveryWorkerOfTheSideByName() {
        Map<String, WorkerFigures> figures = Map.of("w-2", push(1.0, 1), "w-1", push(0.5, 2), "idle", fetch(1, 1));
        assertEquals("Sluice shuffle 4 push per worker: w-1 0.50 s for 2.0 MiB, 4.0 MiB/s; w-2 1.00 s for 1.0 MiB, "
                + "1.0 MiB/s", SlowestWorker.table(4, true, figures));
    }
}
