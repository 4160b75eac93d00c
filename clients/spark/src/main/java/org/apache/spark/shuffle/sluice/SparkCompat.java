package org.apache.spark.shuffle.sluice;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.util.HashSet;
import java.util.Set;
import org.apache.spark.Aggregator;
import org.apache.spark.Partitioner;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.TaskContext;
import org.apache.spark.scheduler.MapStatus;
import org.apache.spark.scheduler.MapStatus$;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.serializer.Serializer;
import org.apache.spark.storage.BlockManagerId;
import org.apache.spark.storage.BlockManagerId$;
import org.apache.spark.util.collection.ExternalSorter;
import scala.Option;
import scala.math.Ordering;

/**
 * The few Spark calls whose binary signature differs between Spark 3.5 and 4.x, resolved once by reflection, plus the
 * location Sluice map outputs are registered under.
 */
final class SparkCompat {
    /** Port of the {@link #sluiceLocation} block manager ids (no process listens there; nothing connects to it). */
    static final int SLUICE_LOCATION_PORT = 1;
    /** Prefix of the executor id and host of {@link #sluiceLocation}. */
    static final String SLUICE_LOCATION_PREFIX = "sluice-shuffle-";

    /** MapStatus$.apply(BlockManagerId, long[], long) on 3.5/4.0; (..., long mapTaskId, long checksumVal) on 4.1+. */
    private static final MethodHandle MAP_STATUS_APPLY;
    private static final boolean MAP_STATUS_HAS_CHECKSUM;
    /** ExternalSorter(context, aggregator, partitioner, ordering, serializer[, RowBasedChecksum[] on 4.1+]). */
    private static final Constructor<?> EXTERNAL_SORTER;
    /**
     * Spark 4.1+'s order-independent row checksum (SPARK-51756): {@code ShuffleDependency.rowBasedChecksums()} as
     * {@code (ShuffleDependency) Object[]}, {@code RowBasedChecksum.update} as {@code (Object, Object, Object) void}
     * and the static {@code RowBasedChecksum.getAggregatedChecksumValue} as {@code (Object[]) long}; null before 4.1.
     */
    private static final MethodHandle ROW_CHECKSUMS;
    private static final MethodHandle ROW_CHECKSUM_UPDATE;
    private static final MethodHandle ROW_CHECKSUM_AGGREGATE;
    /**
     * {@code StageInfo.parentIds()} as {@code (StageInfo) Object}: it returns a {@code scala.collection.Seq} on
     * Scala 2.12 and a {@code scala.collection.immutable.Seq} on 2.13, so it cannot be called directly.
     */
    private static final MethodHandle STAGE_PARENT_IDS;

    static {
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        MethodHandle apply;
        boolean withChecksum;
        try {
            apply = lookup.findVirtual(MapStatus$.class, "apply",
                    MethodType.methodType(MapStatus.class, BlockManagerId.class, long[].class, long.class, long.class));
            withChecksum = true;
        } catch (NoSuchMethodException | IllegalAccessException withoutChecksum) {
            try {
                apply = lookup.findVirtual(MapStatus$.class, "apply",
                        MethodType.methodType(MapStatus.class, BlockManagerId.class, long[].class, long.class));
                withChecksum = false;
            } catch (NoSuchMethodException | IllegalAccessException e) {
                e.addSuppressed(withoutChecksum);
                throw new ExceptionInInitializerError(e);
            }
        }
        MAP_STATUS_APPLY = apply.bindTo(MapStatus$.MODULE$);
        MAP_STATUS_HAS_CHECKSUM = withChecksum;

        Constructor<?> sorter = null;
        for (Constructor<?> candidate : ExternalSorter.class.getConstructors()) {
            Class<?>[] types = candidate.getParameterTypes();
            if ((types.length == 5 || (types.length == 6 && types[5].isArray()))
                    && types[0] == TaskContext.class && types[4] == Serializer.class) {
                sorter = candidate;
            }
        }
        if (sorter == null) {
            throw new ExceptionInInitializerError("no known ExternalSorter constructor in this Spark version");
        }
        EXTERNAL_SORTER = sorter;

        MethodHandle checksums = null;
        MethodHandle update = null;
        MethodHandle aggregate = null;
        if (withChecksum) {
            try {
                Class<?> rowChecksum = Class.forName("org.apache.spark.shuffle.checksum.RowBasedChecksum", false,
                        MapStatus.class.getClassLoader());
                Class<?> rowChecksums = rowChecksum.arrayType();
                checksums = lookup.findVirtual(ShuffleDependency.class, "rowBasedChecksums",
                        MethodType.methodType(rowChecksums)).asType(
                                MethodType.methodType(Object[].class, ShuffleDependency.class));
                update = lookup.findVirtual(rowChecksum, "update",
                        MethodType.methodType(void.class, Object.class, Object.class)).asType(
                                MethodType.methodType(void.class, Object.class, Object.class, Object.class));
                aggregate = lookup.findStatic(rowChecksum, "getAggregatedChecksumValue",
                        MethodType.methodType(long.class, rowChecksums)).asType(
                                MethodType.methodType(long.class, Object[].class));
            } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
        ROW_CHECKSUMS = checksums;
        ROW_CHECKSUM_UPDATE = update;
        ROW_CHECKSUM_AGGREGATE = aggregate;

        try {
            STAGE_PARENT_IDS = lookup.unreflect(StageInfo.class.getMethod("parentIds"))
                    .asType(MethodType.methodType(Object.class, StageInfo.class));
        } catch (NoSuchMethodException | IllegalAccessException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The ids of the stages {@code stage} reads from (its parents), on Scala 2.12 and 2.13 alike. */
    static Set<Integer> parentStageIds(StageInfo stage) {
        Set<Integer> ids = new HashSet<>();
        try {
            scala.collection.Iterator<?> parents = ((scala.collection.Iterable<?>) STAGE_PARENT_IDS.invoke(stage))
                    .iterator();
            while (parents.hasNext()) {
                ids.add((Integer) parents.next());
            }
        } catch (Throwable e) {
            throw new IllegalStateException("StageInfo.parentIds of stage " + stage.stageId(), e);
        }
        return ids;
    }

    private SparkCompat() {
    }

    /**
     * The location every map output of one shuffle is registered under: executor id and host
     * {@code sluice-shuffle-<shuffleId>}, port 1. It belongs to no executor, so losing an executor never unregisters
     * Sluice outputs; a {@code FetchFailedException} naming it makes Spark unregister exactly this shuffle's outputs
     * and rerun its map stage.
     */
    static BlockManagerId sluiceLocation(int shuffleId) {
        String name = SLUICE_LOCATION_PREFIX + shuffleId;
        return BlockManagerId$.MODULE$.apply(name, name, SLUICE_LOCATION_PORT, Option.empty());
    }

    /**
     * A MapStatus with the given per-partition sizes for the map task attempt {@code mapTaskId}, carrying the row
     * checksum on Spark 4.1+ (ignored before).
     */
    static MapStatus mapStatus(BlockManagerId location, long[] sizesBytes, long mapTaskId, RowChecksums checksums) {
        try {
            if (MAP_STATUS_HAS_CHECKSUM) {
                return (MapStatus) MAP_STATUS_APPLY.invoke(location, sizesBytes, mapTaskId, checksums.value());
            }
            return (MapStatus) MAP_STATUS_APPLY.invoke(location, sizesBytes, mapTaskId);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("MapStatus.apply failed", e);
        }
    }

    /**
     * The dependency's row checksums, one per reduce partition, as Spark's own writers use them: an empty array when
     * the query did not ask for them and always before Spark 4.1.
     */
    static Object[] rowChecksums(ShuffleDependency<?, ?, ?> dependency) {
        if (ROW_CHECKSUMS == null) {
            return new Object[0];
        }
        try {
            Object[] checksums = (Object[]) ROW_CHECKSUMS.invokeExact(dependency);
            return checksums == null ? new Object[0] : checksums;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("ShuffleDependency.rowBasedChecksums failed", e);
        }
    }

    /** {@code RowBasedChecksum.update(key, value)} on one element of {@link #rowChecksums}. */
    static void updateRowChecksum(Object checksum, Object key, Object value) {
        try {
            ROW_CHECKSUM_UPDATE.invokeExact(checksum, key, value);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("RowBasedChecksum.update failed", e);
        }
    }

    /** {@code RowBasedChecksum.getAggregatedChecksumValue(checksums)}: the value a MapStatus carries on 4.1+; 0 before. */
    static long aggregatedRowChecksum(Object[] checksums) {
        if (ROW_CHECKSUM_AGGREGATE == null) {
            return 0L;
        }
        try {
            return (long) ROW_CHECKSUM_AGGREGATE.invokeExact(checksums);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("RowBasedChecksum.getAggregatedChecksumValue failed", e);
        }
    }

    /** A sorter that only orders records by key (no aggregation, no partitioning), as Spark's own reader uses. */
    @SuppressWarnings("unchecked")
    static <K, C> ExternalSorter<K, C, C> keySorter(TaskContext context, Ordering<K> ordering, Serializer serializer) {
        Option<Aggregator<K, C, C>> noAggregator = Option.empty();
        Option<Partitioner> noPartitioner = Option.empty();
        Object[] arguments = EXTERNAL_SORTER.getParameterCount() == 5
                ? new Object[] {context, noAggregator, noPartitioner, Option.apply(ordering), serializer}
                : new Object[] {context, noAggregator, noPartitioner, Option.apply(ordering), serializer,
                                Array.newInstance(EXTERNAL_SORTER.getParameterTypes()[5].getComponentType(), 0)};
        try {
            return (ExternalSorter<K, C, C>) EXTERNAL_SORTER.newInstance(arguments);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create ExternalSorter", e);
        }
    }
}
