package org.apache.spark.shuffle.sluice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.shuffle.ShuffleBlockResolver;
import org.apache.spark.shuffle.ShuffleHandle;
import org.apache.spark.shuffle.ShuffleManager;
import org.apache.spark.shuffle.ShuffleReadMetricsReporter;
import org.apache.spark.shuffle.ShuffleReader;
import org.apache.spark.shuffle.ShuffleWriteMetricsReporter;
import org.apache.spark.shuffle.ShuffleWriter;
import org.apache.spark.shuffle.sluice.auth.Credential;
import org.apache.spark.shuffle.sluice.client.LocationTable;
import org.apache.spark.shuffle.sluice.client.MasterClient;
import org.apache.spark.shuffle.sluice.client.PushSession;
import org.apache.spark.shuffle.sluice.client.SluiceClient;
import org.apache.spark.shuffle.sort.SortShuffleManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Spark shuffle manager of Sluice, compiled against Spark 3.5 and shared by all Spark versions. Users name its
 * subclass {@link SluiceShuffleManager} (built against Spark 4.3, see docs/spark.md for why there are two classes).
 *
 * <p>Driver: {@link #registerShuffle} asks the Sluice master for partition locations and ships them in a
 * {@link SluiceShuffleHandle}; a daemon thread heartbeats the application; {@link #unregisterShuffle} and
 * {@link #stop} release the shuffle and the application on the master. Executors: writers push to the workers named
 * in the handle, readers fetch from them. One {@link SluiceClient} per JVM, created on first use.
 */
public abstract class SluiceShuffleManagerBase implements ShuffleManager {
    private static final Logger LOG = LoggerFactory.getLogger(SluiceShuffleManagerBase.class);
    private static final String SPARK_APP_ID = "spark.app.id";

    private final SparkConf sparkConf;
    private final boolean isDriver;
    private final SluiceConf conf;
    /** Shuffles this driver registered with the master and has not unregistered yet. */
    private final Set<Integer> registeredShuffleIds = ConcurrentHashMap.newKeySet();
    private final FallbackPolicy fallback;
    /** Driver: logs each shuffle's slowest worker; added to the SparkContext with the first Sluice shuffle. */
    private SlowestWorkerListener slowestWorkerListener;

    private SluiceClient client;
    /** The application's token once the driver registered it (empty without a cluster secret). */
    private byte[] applicationToken = new byte[0];
    private SortShuffleManager sortShuffleManager;
    private ScheduledExecutorService heartbeats;
    /** Application id the driver registered shuffles under; null until the first registerShuffle. */
    private volatile String driverApplicationId;
    private boolean stopped;

    protected SluiceShuffleManagerBase(SparkConf sparkConf, boolean isDriver) {
        this.sparkConf = sparkConf;
        this.isDriver = isDriver;
        this.conf = new SluiceConf(sparkConf);
        this.fallback = new FallbackPolicy(conf.fallback, conf.fallbackMaxPartitions);
        if (isDriver && conf.reliableStorage && !sparkConf.contains(SluiceConf.SPARK_SHUFFLE_IO_PLUGIN)) {
            // Spark loads the plugin from this same SparkConf after creating the shuffle manager; executors receive it.
            sparkConf.set(SluiceConf.SPARK_SHUFFLE_IO_PLUGIN, SluiceShuffleDataIO.class.getName());
            LOG.info("Sluice: set {} to {} (reliable shuffle storage for dynamic allocation)",
                    SluiceConf.SPARK_SHUFFLE_IO_PLUGIN, SluiceShuffleDataIO.class.getName());
        }
    }

    /** The settings in effect. */
    public SluiceConf sluiceConf() {
        return conf;
    }

    /** The JVM's client, created on first use (on the driver; executors pass their handle's token). */
    protected synchronized SluiceClient client() {
        return client(null);
    }

    /**
     * The JVM's client, created on first use. With a client secret, the driver registers the application first and
     * proves its token from then on; executors prove the token the handle carries ({@code handleToken}).
     */
    protected synchronized SluiceClient client(byte[] handleToken) {
        if (stopped) {
            throw new IllegalStateException("Sluice shuffle manager is stopped");
        }
        if (client == null) {
            String applicationId = sparkConf.get(SPARK_APP_ID, "unknown-app");
            byte[] token = isDriver ? registerApplication(applicationId) : handleToken;
            if (token != null && token.length > 0) {
                applicationToken = token;
                client = new SluiceClient(conf.clientSettings(), applicationId, Credential.applicationToken(token));
            } else {
                String role = isDriver ? "driver"
                        : "executor-" + (SparkEnv.get() == null ? "?" : SparkEnv.get().executorId());
                client = new SluiceClient(conf.clientSettings(), "spark-" + role + "@" + applicationId);
            }
        }
        return client;
    }

    /** Driver: the application's token from the master when a client secret is configured, else null. */
    private byte[] registerApplication(String applicationId) {
        Credential clientSecret = conf.clientCredential();
        if (clientSecret == null) {
            return null;
        }
        MasterClient master = new MasterClient(conf.clientSettings(), applicationId, clientSecret);
        try {
            byte[] token = master.registerApplication(applicationId);
            LOG.info("Sluice: registered application {} with the master (authenticated)", applicationId);
            return token;
        } catch (IOException e) {
            throw new UncheckedIOException("Sluice master " + conf.masterHost + ":" + conf.masterPort
                    + " refused to register application " + applicationId + " with the client secret", e);
        } finally {
            master.close();
        }
    }

    @Override
    public <K, V, C> ShuffleHandle registerShuffle(int shuffleId, ShuffleDependency<K, V, C> dependency) {
        String applicationId = sparkConf.get(SPARK_APP_ID, null);
        if (applicationId == null) {
            throw new IllegalStateException(SPARK_APP_ID + " is not set when registering shuffle " + shuffleId);
        }
        int numPartitions = dependency.partitioner().numPartitions();
        String skip = fallback.reasonBeforeRegistering(numPartitions);
        if (skip != null) {
            return fallBack(shuffleId, dependency, applicationId, skip);
        }
        try {
            return registerWithSluice(shuffleId, dependency, applicationId);
        } catch (RuntimeException e) {
            String reason = fallback.reasonAfterFailure(e);
            if (reason == null) {
                throw e;
            }
            return fallBack(shuffleId, dependency, applicationId, reason);
        }
    }

    private <K, V, C> ShuffleHandle registerWithSluice(int shuffleId, ShuffleDependency<K, V, C> dependency,
                                                       String applicationId) {
        int numMappers = dependency.rdd().getNumPartitions();
        int numPartitions = dependency.partitioner().numPartitions();
        byte[] encodedTable = new byte[0];
        SluiceClient driverClient = client();
        if (numPartitions > 0) {
            try {
                LocationTable table = driverClient.master().registerShuffle(
                        applicationId, shuffleId, numMappers, numPartitions, conf.replicate);
                encodedTable = table.encode();
            } catch (IOException e) {
                throw new UncheckedIOException("Sluice master " + conf.masterHost + ":" + conf.masterPort
                        + " could not register shuffle " + shuffleId + " of " + applicationId, e);
            }
        }
        registeredShuffleIds.add(shuffleId);
        startHeartbeats(applicationId);
        byte[] token;
        synchronized (this) {
            token = applicationToken;
        }
        WorkerTimesAccumulator workerTimes = new WorkerTimesAccumulator();
        SparkContext context = dependency.rdd().sparkContext();
        context.register(workerTimes);
        slowestWorkerListener(context).track(shuffleId, workerTimes);
        return new SluiceShuffleHandle<>(shuffleId, dependency, applicationId, numMappers, numPartitions, encodedTable,
                token, workerTimes);
    }

    /** The driver's listener that names each shuffle's slowest worker, added to {@code context} on first use. */
    private synchronized SlowestWorkerListener slowestWorkerListener(SparkContext context) {
        if (slowestWorkerListener == null) {
            slowestWorkerListener = new SlowestWorkerListener();
            context.addSparkListener(slowestWorkerListener);
        }
        return slowestWorkerListener;
    }

    /** Registers the shuffle with Spark's sort shuffle instead, and says why in the driver log. */
    private <K, V, C> ShuffleHandle fallBack(int shuffleId, ShuffleDependency<K, V, C> dependency,
                                             String applicationId, String reason) {
        LOG.warn("Sluice: shuffle {} of {} uses Spark's sort shuffle (spark.sluice.fallback=auto): {}", shuffleId,
                applicationId, reason);
        return sortShuffleManager().registerShuffle(shuffleId, dependency);
    }

    private synchronized void startHeartbeats(String applicationId) {
        driverApplicationId = applicationId;
        if (heartbeats != null || stopped) {
            return;
        }
        heartbeats = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "sluice-application-heartbeat");
            thread.setDaemon(true);
            return thread;
        });
        heartbeats.scheduleWithFixedDelay(this::heartbeat, conf.heartbeatIntervalMs, conf.heartbeatIntervalMs,
                TimeUnit.MILLISECONDS);
    }

    private void heartbeat() {
        String applicationId = driverApplicationId;
        try {
            client().master().applicationHeartbeat(applicationId);
        } catch (IOException | RuntimeException e) {
            // The next beat retries; the master expires the application only after several missed beats.
            LOG.warn("Sluice: heartbeat of application {} failed", applicationId, e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <K, V> ShuffleWriter<K, V> getWriter(ShuffleHandle handle, long mapId, TaskContext context,
                                                ShuffleWriteMetricsReporter metrics) {
        if (!(handle instanceof SluiceShuffleHandle)) {
            return sortShuffleManager().getWriter(handle, mapId, context, metrics);
        }
        SluiceShuffleHandle<K, V, Object> sluiceHandle = (SluiceShuffleHandle<K, V, Object>) handle;
        PushSession session = null;
        if (sluiceHandle.numPartitions() > 0) {
            LocationTable table;
            try {
                table = LocationTable.decode(sluiceHandle.encodedLocationTable());
            } catch (IOException e) {
                throw new UncheckedIOException("bad location table in " + sluiceHandle, e);
            }
            // Spark 3+: mapId is the task attempt id, which Sluice uses as the attempt id; the map index is the
            // partition of the map stage.
            session = client(sluiceHandle.applicationToken()).newPushSession(sluiceHandle.applicationId(), sluiceHandle.shuffleId(), table,
                    context.partitionId(), mapId);
        }
        return new SluiceShuffleWriter<>(sluiceHandle, mapId, context, metrics, session, conf);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <K, C> ShuffleReader<K, C> getReader(ShuffleHandle handle, int startMapIndex, int endMapIndex,
                                                int startPartition, int endPartition, TaskContext context,
                                                ShuffleReadMetricsReporter metrics) {
        if (!(handle instanceof SluiceShuffleHandle)) {
            return sortShuffleManager().getReader(handle, startMapIndex, endMapIndex, startPartition, endPartition,
                    context, metrics);
        }
        SluiceShuffleHandle<K, ?, C> sluiceHandle = (SluiceShuffleHandle<K, ?, C>) handle;
        return new SluiceShuffleReader<>(sluiceHandle, startMapIndex, endMapIndex, startPartition, endPartition,
                context, metrics, client(sluiceHandle.applicationToken()));
    }

    /**
     * On the driver, releases the shuffle's partitions on the master (which deletes them on the workers). Everywhere,
     * removes the local files of a shuffle that fell back to Spark's sort shuffle.
     */
    @Override
    public boolean unregisterShuffle(int shuffleId) {
        if (conf.fallback) {
            sortShuffleManager().unregisterShuffle(shuffleId);
        }
        String applicationId = driverApplicationId;
        synchronized (this) {
            if (slowestWorkerListener != null) {
                slowestWorkerListener.forget(shuffleId);
            }
        }
        if (!isDriver || applicationId == null || !registeredShuffleIds.remove(shuffleId)) {
            return true;
        }
        try {
            client().master().unregisterShuffle(applicationId, shuffleId);
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.warn("Sluice: could not unregister shuffle {} of {}; the master deletes it with the application",
                    shuffleId, applicationId, e);
            return false;
        }
    }

    /**
     * Spark 3.5's ShuffleManager method and Spark 4.3's BlockingShuffleManager method (hence no @Override). Sluice
     * stores nothing locally: this is the resolver of an internal, unused SortShuffleManager, so the block manager
     * finds no local shuffle blocks.
     */
    public ShuffleBlockResolver shuffleBlockResolver() {
        return sortShuffleManager().shuffleBlockResolver();
    }

    private synchronized SortShuffleManager sortShuffleManager() {
        if (sortShuffleManager == null) {
            sortShuffleManager = new SortShuffleManager(sparkConf);
        }
        return sortShuffleManager;
    }

    /** Driver: stops the heartbeats and unregisters the application. Everywhere: closes the client. */
    @Override
    public void stop() {
        SluiceClient toClose;
        SortShuffleManager sortToStop;
        synchronized (this) {
            if (stopped) {
                return;
            }
            if (heartbeats != null) {
                heartbeats.shutdownNow();
            }
            toClose = client;
            sortToStop = sortShuffleManager;
            stopped = true;
        }
        String applicationId = driverApplicationId;
        if (isDriver && applicationId != null && toClose != null) {
            try {
                toClose.master().unregisterApplication(applicationId);
            } catch (IOException | RuntimeException e) {
                LOG.warn("Sluice: could not unregister application {}; the master expires it after missed heartbeats",
                        applicationId, e);
            }
        }
        if (toClose != null) {
            toClose.close();
        }
        if (sortToStop != null) {
            sortToStop.stop();
        }
    }
}
