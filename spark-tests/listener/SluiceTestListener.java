import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import org.apache.spark.SparkConf;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;

/**
 * Test-only SparkListener (spark-tests/test_failures.py compiles it against pyspark's jars): appends one JSON line per
 * job start, task end and stage completion to the file named by spark.sluicetest.events, so the tests can count
 * task attempts per stage and see which stage attempts failed.
 */
public class SluiceTestListener extends SparkListener {
    private final Writer out;

    public SluiceTestListener(SparkConf conf) throws IOException {
        out = new OutputStreamWriter(new FileOutputStream(conf.get("spark.sluicetest.events"), true),
                StandardCharsets.UTF_8);
    }

    private synchronized void write(String line) {
        try {
            out.write(line);
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static String q(Object value) {
        if (value == null) {
            return "null";
        }
        String s = value.toString();
        if (s.length() > 2000) {
            s = s.substring(0, 2000);
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    @Override
    public void onJobStart(SparkListenerJobStart e) {
        String group = e.properties() == null ? null : e.properties().getProperty("spark.jobGroup.id");
        write("{\"ev\":\"job\",\"job\":" + e.jobId() + ",\"stages\":[" + e.stageIds().mkString(",") + "],\"group\":"
                + q(group) + "}");
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd e) {
        write("{\"ev\":\"task\",\"stage\":" + e.stageId() + ",\"stageAttempt\":" + e.stageAttemptId()
                + ",\"index\":" + e.taskInfo().index() + ",\"attempt\":" + e.taskInfo().attemptNumber()
                + ",\"executor\":" + q(e.taskInfo().executorId()) + ",\"reason\":" + q(e.reason())
                + shuffleMetrics(e.taskMetrics()) + "}");
    }

    /** The task's shuffle write and read metrics as JSON fields (none when Spark gave no metrics). */
    private static String shuffleMetrics(TaskMetrics metrics) {
        if (metrics == null) {
            return "";
        }
        return ",\"writeBytes\":" + metrics.shuffleWriteMetrics().bytesWritten()
                + ",\"writeRecords\":" + metrics.shuffleWriteMetrics().recordsWritten()
                + ",\"writeTimeNs\":" + metrics.shuffleWriteMetrics().writeTime()
                + ",\"readBytes\":" + metrics.shuffleReadMetrics().totalBytesRead()
                + ",\"readRecords\":" + metrics.shuffleReadMetrics().recordsRead()
                + ",\"fetchWaitMs\":" + metrics.shuffleReadMetrics().fetchWaitTime();
    }

    @Override
    public void onStageCompleted(SparkListenerStageCompleted e) {
        StageInfo info = e.stageInfo();
        String failure = info.failureReason().isDefined() ? info.failureReason().get() : null;
        write("{\"ev\":\"stage\",\"stage\":" + info.stageId() + ",\"attempt\":" + info.attemptNumber()
                + ",\"name\":" + q(info.name()) + ",\"tasks\":" + info.numTasks() + ",\"failure\":" + q(failure) + "}");
    }
}
