import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.spark.Dependency;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.shuffle.FetchFailedException;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockManagerId;
import org.apache.spark.storage.ShuffleBlockId;
import scala.Tuple2;
import scala.Tuple3;
import scala.reflect.ClassTag$;

/**
 * Test only (spark-tests/checksum_jobs.py): makes the first attempt of one task that reads a shuffle fail with
 * Spark's FetchFailedException, as a reader that lost a map output would, so that Spark unregisters map outputs and
 * reruns the map stage's missing tasks. The exception names the location and map that the MapOutputTracker lists first
 * for that partition, so Spark reacts as it would with that shuffle implementation's real fetch failure.
 */
public final class SluiceFetchFailure {
    private SluiceFetchFailure() {
    }

    /**
     * Rows of a DataFrame's RDD (columns: long key, long value), read in a stage whose partition 0 fails with a
     * FetchFailedException on its first stage attempt, then summed per key through one more shuffle (so the reading
     * stage is a map stage Spark can rerun as a whole). Returns [sum of values, number of keys].
     */
    public static long[] sumFailingOnce(RDD<Row> rows, int reducePartitions) {
        int shuffleId = firstShuffleId(rows);
        JavaRDD<Row> failing = new JavaRDD<>(rows, ClassTag$.MODULE$.apply(Row.class)).mapPartitionsWithIndex(
                (index, it) -> {
                    TaskContext context = TaskContext.get();
                    if (index == 0 && context.stageAttemptNumber() == 0) {
                        throw fetchFailure(shuffleId, context.partitionId());
                    }
                    return it;
                }, false);
        JavaPairRDD<Long, Long> sums = failing
                .mapToPair(row -> new Tuple2<>(row.getLong(0), row.getLong(1)))
                .reduceByKey(Long::sum, reducePartitions);
        long total = 0;
        long keys = 0;
        for (Tuple2<Long, Long> entry : sums.collect()) {
            total += entry._2();
            keys++;
        }
        return new long[] {total, keys};
    }

    /**
     * A FetchFailedException for the first map output this reduce partition reads, naming its real location and map
     * (whatever shuffle implementation registered it), as a reader that lost that output would throw.
     */
    private static FetchFailedException fetchFailure(int shuffleId, int reduceId) {
        scala.collection.Iterator<Tuple2<BlockManagerId, scala.collection.Seq<Tuple3<BlockId, Object, Object>>>> sizes =
                SparkEnv.get().mapOutputTracker().getMapSizesByExecutorId(
                        shuffleId, 0, Integer.MAX_VALUE, reduceId, reduceId + 1);
        while (sizes.hasNext()) {
            Tuple2<BlockManagerId, scala.collection.Seq<Tuple3<BlockId, Object, Object>>> location = sizes.next();
            scala.collection.Iterator<Tuple3<BlockId, Object, Object>> blocks = location._2().iterator();
            if (blocks.hasNext()) {
                Tuple3<BlockId, Object, Object> block = blocks.next();
                long mapId = ((ShuffleBlockId) block._1()).mapId();
                int mapIndex = (Integer) block._3();
                return new FetchFailedException(location._1(), shuffleId, mapId, mapIndex, reduceId,
                        "injected fetch failure (first stage attempt of partition 0)", null);
            }
        }
        throw new IllegalStateException("reduce partition " + reduceId + " of shuffle " + shuffleId + " reads nothing");
    }

    /** The id of the nearest shuffle in the RDD's lineage. */
    private static int firstShuffleId(RDD<?> rdd) {
        Deque<RDD<?>> queue = new ArrayDeque<>();
        queue.add(rdd);
        while (!queue.isEmpty()) {
            RDD<?> current = queue.poll();
            scala.collection.Iterator<Dependency<?>> dependencies = current.dependencies().iterator();
            while (dependencies.hasNext()) {
                Dependency<?> dependency = dependencies.next();
                if (dependency instanceof ShuffleDependency<?, ?, ?> shuffle) {
                    return shuffle.shuffleId();
                }
                queue.add(dependency.rdd());
            }
        }
        throw new IllegalArgumentException("no shuffle in the lineage of " + rdd);
    }
}
