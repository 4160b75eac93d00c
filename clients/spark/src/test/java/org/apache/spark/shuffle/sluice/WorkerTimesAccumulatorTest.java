package org.apache.spark.shuffle.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Map;
import org.apache.spark.util.AccumulatorContext;
import org.apache.spark.util.AccumulatorMetadata;
import org.apache.spark.util.AccumulatorV2;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;
import scala.Option;

/** The per-worker accumulator: sums per worker, copies, resets, and travels driver → task → driver as Spark does. */
class WorkerTimesAccumulatorTest {
    private static final String W1 = "w-1 (127.0.0.1:7001)";
    private static final String W2 = "127.0.0.1:7002";

    private static WorkerTimesAccumulator withPush(String worker, long nanos, long bytes) {
        WorkerTimesAccumulator accumulator = new WorkerTimesAccumulator();
        accumulator.addPush(Map.of(worker, new long[] {nanos, bytes}));
        return accumulator;
    }

    @Test
    void addsPushAndFetchPerWorker() {
        WorkerTimesAccumulator accumulator = withPush(W1, 100, 10);
        accumulator.addPush(Map.of(W1, new long[] {50, 5}, W2, new long[] {7, 3}));
        accumulator.addFetch(Map.of(W1, new long[] {20, 4}));
        assertEquals(Map.of(W1, new WorkerFigures(150, 15, 20, 4), W2, new WorkerFigures(7, 3, 0, 0)),
                accumulator.value());
    }

    @Test
    void mergeSumsTheOthersFiguresAndLeavesTheOtherAlone() {
        WorkerTimesAccumulator driver = withPush(W1, 100, 10);
        WorkerTimesAccumulator task = withPush(W1, 1, 2);
        task.addFetch(Map.of(W2, new long[] {30, 40}));
        driver.merge(task);
        assertEquals(Map.of(W1, new WorkerFigures(101, 12, 0, 0), W2, new WorkerFigures(0, 0, 30, 40)),
                driver.value());
        assertEquals(Map.of(W1, new WorkerFigures(1, 2, 0, 0), W2, new WorkerFigures(0, 0, 30, 40)), task.value());
        @SuppressWarnings({"unchecked", "rawtypes"})
        AccumulatorV2<Map<String, WorkerFigures>, Map<String, WorkerFigures>> other =
                (AccumulatorV2) new LongAccumulator();
        assertThrows(UnsupportedOperationException.class, () -> driver.merge(other));
    }

    @Test
    void copyIsIndependentAndResetEmpties() {
        WorkerTimesAccumulator original = withPush(W1, 100, 10);
        WorkerTimesAccumulator copy = original.copy();
        assertNotSame(original, copy);
        assertEquals(original.value(), copy.value());
        copy.addPush(Map.of(W1, new long[] {1, 1}));
        assertEquals(Map.of(W1, new WorkerFigures(100, 10, 0, 0)), original.value());
        assertFalse(original.isZero());
        original.reset();
        assertTrue(original.isZero());
        assertTrue(original.value().isEmpty());
        assertEquals(Map.of(W1, new WorkerFigures(101, 11, 0, 0)), copy.value());
        assertTrue(new WorkerTimesAccumulator().isZero());
    }

    @Test
    void travelsToATaskEmptyAndBackWithTheTasksFigures() throws Exception {
        WorkerTimesAccumulator driver = withPush(W1, 100, 10);
        long id = AccumulatorContext.newId();
        driver.metadata_$eq(new AccumulatorMetadata(id, Option.empty(), false)); // what SparkContext.register does
        AccumulatorContext.register(driver);
        try {
            // Driver → task: Spark ships a zero copy (writeReplace); the task's copy starts empty.
            WorkerTimesAccumulator task = roundTrip(driver);
            assertNotSame(driver, task);
            assertTrue(task.isZero());
            assertEquals(id, task.id());
            task.addPush(Map.of(W2, new long[] {5, 6}));
            task.addFetch(Map.of(W1, new long[] {7, 8}));
            // Task → driver: the task's copy travels as it is and is merged into the registered one.
            WorkerTimesAccumulator update = roundTrip(task);
            assertEquals(task.value(), update.value());
            driver.merge(update);
            assertEquals(Map.of(W1, new WorkerFigures(100, 10, 7, 8), W2, new WorkerFigures(5, 6, 0, 0)),
                    driver.value());
        } finally {
            AccumulatorContext.remove(id);
        }
    }

    private static WorkerTimesAccumulator roundTrip(WorkerTimesAccumulator accumulator)
            throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(accumulator);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (WorkerTimesAccumulator) in.readObject();
        }
    }
}
