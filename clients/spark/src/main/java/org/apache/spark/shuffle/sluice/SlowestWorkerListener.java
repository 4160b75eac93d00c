package org.apache.spark.shuffle.sluice;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.StageInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver: names the slowest worker of each Sluice shuffle in the log (docs/spark.md, "Which worker was slowest").
 * When a shuffle's map stage completes it logs the push figures added since its previous push line; when a stage
 * that reads the shuffle (a child of its map stage) completes it logs the fetch figures added since the previous
 * fetch line. The figures come from the shuffle's {@link WorkerTimesAccumulator}, which Spark has merged the stage's
 * task results into before it posts the stage's completion. Added once by the shuffle manager; holds one entry per
 * registered Sluice shuffle until {@link #forget}.
 */
final class SlowestWorkerListener extends SparkListener {
    private static final Logger LOG = LoggerFactory.getLogger(SlowestWorkerListener.class);

    /** One shuffle's accumulator, its map stages and the figures its last lines reported. */
    private static final class Tracked {
        final WorkerTimesAccumulator times;
        final Set<Integer> mapStageIds = new HashSet<>();
        Map<String, WorkerFigures> reported = new HashMap<>();

        Tracked(WorkerTimesAccumulator times) {
            this.times = times;
        }
    }

    private final Map<Integer, Tracked> shuffles = new ConcurrentHashMap<>();

    /** Starts following a Sluice shuffle registered on this driver. */
    void track(int shuffleId, WorkerTimesAccumulator times) {
        shuffles.put(shuffleId, new Tracked(times));
    }

    /** Stops following an unregistered shuffle. */
    void forget(int shuffleId) {
        shuffles.remove(shuffleId);
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted event) {
        Integer shuffleId = mapShuffleOf(event.stageInfo());
        Tracked tracked = shuffleId == null ? null : shuffles.get(shuffleId);
        if (tracked != null) {
            synchronized (tracked) {
                tracked.mapStageIds.add(event.stageInfo().stageId());
            }
        }
    }

    @Override
    public void onStageCompleted(SparkListenerStageCompleted event) {
        StageInfo stage = event.stageInfo();
        Integer mapShuffle = mapShuffleOf(stage);
        Set<Integer> parents = SparkCompat.parentStageIds(stage);
        for (Map.Entry<Integer, Tracked> entry : new TreeMap<>(shuffles).entrySet()) {
            Tracked tracked = entry.getValue();
            synchronized (tracked) {
                if (entry.getKey().equals(mapShuffle)) {
                    tracked.mapStageIds.add(stage.stageId());
                    report(entry.getKey(), tracked, true);
                }
                for (Integer parent : parents) {
                    if (tracked.mapStageIds.contains(parent)) {
                        report(entry.getKey(), tracked, false);
                        break;
                    }
                }
            }
        }
    }

    /** Logs one side's figures added since the previous line of that side, if any. */
    private static void report(int shuffleId, Tracked tracked, boolean push) {
        Map<String, WorkerFigures> now = tracked.times.value();
        Map<String, WorkerFigures> added = new TreeMap<>();
        Map<String, WorkerFigures> reported = new HashMap<>(tracked.reported);
        for (Map.Entry<String, WorkerFigures> entry : now.entrySet()) {
            WorkerFigures before = reported.getOrDefault(entry.getKey(), WorkerFigures.ZERO);
            // The other side's figures stay as last reported: its own line reports them.
            added.put(entry.getKey(), entry.getValue().minus(before).side(push, WorkerFigures.ZERO));
            reported.put(entry.getKey(), entry.getValue().side(push, before));
        }
        tracked.reported = reported;
        String summary = SlowestWorker.summary(shuffleId, push, added);
        if (summary == null) {
            return;
        }
        LOG.info(summary);
        if (LOG.isDebugEnabled()) {
            LOG.debug(SlowestWorker.table(shuffleId, push, added));
        }
    }

    /** The shuffle a map stage writes, or null for a result stage. */
    private static Integer mapShuffleOf(StageInfo stage) {
        scala.Option<Object> shuffleId = stage.shuffleDepId();
        return shuffleId.isDefined() ? (Integer) shuffleId.get() : null;
    }
}
