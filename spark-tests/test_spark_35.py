"""Full matrix on Spark 3.5.9: every job from jobs.py with the builtin shuffle and with Sluice, in local[2] (threads)
and local-cluster[2,1,1024] (two executor JVMs); results must be equal. Run with the 3.5 venv:
    .cache/pyspark-3.5/bin/python -m pytest spark-tests/test_spark_35.py
"""
import hashlib
import hmac
import os
import sys
from pathlib import Path

import pytest

import harness
from conftest import BATCH_TIMEOUT, JOB_SET, Comparison, check_links, pyspark_version

pytestmark = pytest.mark.skipif(not pyspark_version().startswith("3.5."),
                                reason=f"needs pyspark 3.5.x (this interpreter has {pyspark_version()})")

JOBS = JOB_SET
MODES = ["local", "cluster"]


@pytest.fixture(scope="module")
def comparisons(sluice_servers, sluice_jar):
    return {mode: Comparison(f"3.5-{mode}", mode, JOBS, sluice_servers, sluice_jar) for mode in MODES}


def test_client_links_against_this_spark(sluice_jar):
    """Every class, field and method the jar references statically exists in Spark 3.5's jars (tools/LinkCheck)."""
    check_links(sluice_jar)


@pytest.mark.parametrize("mode", MODES)
def test_shuffle_manager_in_use(comparisons, mode):
    comparisons[mode].check_manager()


@pytest.mark.parametrize("job", JOBS)
@pytest.mark.parametrize("mode", MODES)
def test_same_result(comparisons, mode, job):
    comparisons[mode].check(job)


# Kryo for RDD records (a common setting on clusters): with auto-reset it allows relocation of serialized records, so
# the writer serializes every record of a map task through one stream (RecordBuffers) instead of one per partition.
KRYO_JOBS = ["rdd_reduce_by_key", "rdd_group_by_key", "rdd_join", "rdd_cogroup", "big_records", "empty_partitions"]


@pytest.fixture(scope="module")
def kryo(sluice_servers, sluice_jar):
    return Comparison("3.5-local-kryo", "local", KRYO_JOBS, sluice_servers, sluice_jar,
                      extra_conf={"spark.serializer": "org.apache.spark.serializer.KryoSerializer"})


@pytest.mark.parametrize("job", KRYO_JOBS)
def test_same_result_with_kryo(kryo, job):
    kryo.check(job)


# Speculation: a straggling map task (first attempt pushes part of its output, then stalls) and a speculative copy that
# wins. Spark never speculates in local mode and never on a host that already ran an attempt, and local-cluster puts
# all executors on one host, so this runs on a small standalone cluster with workers on 127.0.0.1 and 127.0.0.2.
SPECULATION_CONF = {
    "spark.speculation": "true",
    "spark.speculation.interval": "200ms",
    "spark.speculation.multiplier": "2",
    "spark.speculation.quantile": "0.5",
    "spark.speculation.minTaskRuntime": "1s",
    "spark.speculation.efficiency.enabled": "false",
}
SPECULATION_JOBS = ["speculation_straggler", "rdd_reduce_by_key", "df_join"]


@pytest.fixture(scope="module")
def speculation(sluice_servers, sluice_jar):
    cluster = harness.StandaloneCluster()
    try:
        yield Comparison("3.5-standalone-speculation", "cluster", SPECULATION_JOBS, sluice_servers, sluice_jar,
                         extra_conf=SPECULATION_CONF, master=cluster.master_url, log_dirs=cluster.log_dirs,
                         parallel=False)  # one app at a time holds the cluster's 2 cores
    finally:
        cluster.stop()


@pytest.mark.parametrize("job", SPECULATION_JOBS)
def test_same_result_with_speculation(speculation, job):
    speculation.check(job)


# Dynamic allocation without the external shuffle service: Spark refuses to start it unless the shuffle plugin reports
# reliable storage (or shuffle tracking keeps executors alive). With tracking off, the builtin shuffle must be refused
# and Sluice (whose ShuffleDataIO reports reliable storage) must start and give the same results.
DYNAMIC_ALLOCATION_CONF = {
    "spark.dynamicAllocation.enabled": "true",
    "spark.dynamicAllocation.shuffleTracking.enabled": "false",
    "spark.shuffle.service.enabled": "false",
    "spark.dynamicAllocation.minExecutors": "1",
    "spark.dynamicAllocation.maxExecutors": "2",
}
DYNAMIC_ALLOCATION_JOBS = ["rdd_reduce_by_key", "df_join"]


def test_dynamic_allocation_without_external_shuffle_service(sluice_servers, sluice_jar):
    builtin_conf = harness.spark_conf("cluster", "builtin", sluice_jar, sluice_servers.master_address,
                                      DYNAMIC_ALLOCATION_CONF)
    with pytest.raises(harness.HarnessError, match="external shuffle service"):
        harness.run_batch(sys.executable, "cluster", "builtin", DYNAMIC_ALLOCATION_JOBS, builtin_conf, BATCH_TIMEOUT,
                          label="3.5-dynamic-allocation-builtin")
    sluice_conf = harness.spark_conf("cluster", "sluice", sluice_jar, sluice_servers.master_address,
                                     DYNAMIC_ALLOCATION_CONF)
    report = harness.run_batch(sys.executable, "cluster", "sluice", DYNAMIC_ALLOCATION_JOBS, sluice_conf,
                               BATCH_TIMEOUT, label="3.5-dynamic-allocation-sluice")
    plain_conf = harness.spark_conf("cluster", "builtin", sluice_jar, sluice_servers.master_address, {})
    reference = harness.run_batch(sys.executable, "cluster", "builtin", DYNAMIC_ALLOCATION_JOBS, plain_conf,
                                  BATCH_TIMEOUT, label="3.5-dynamic-allocation-reference")["jobs"]
    for job in DYNAMIC_ALLOCATION_JOBS:
        entry = report["jobs"][job]
        assert entry["ok"], f"{job} failed with dynamic allocation on Sluice:\n{entry['error']}\n" \
                            f"{report.get('runner_tail', '')}"
        assert entry["result"] == reference[job]["result"], f"{job}: result differs from the builtin shuffle's"


# A secured cluster: servers started with a cluster secret (as a Kubernetes Secret provides it, through the
# environment); the driver reads the client secret from a file (spark.sluice.auth.clientSecretFile), registers its
# application and hands the token to executors in the shuffle handle. Same results as the builtin shuffle.
SECURED_JOBS = ["rdd_reduce_by_key", "df_join"]
CLUSTER_SECRET = "spark-tests-cluster-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def secured(sluice_jar, tmp_path_factory):
    bin_dir = harness.find_binaries()
    servers = harness.SluiceServers(bin_dir, workers=2, env={"SLUICE_CLUSTER_SECRET": CLUSTER_SECRET})
    client_secret = hmac.new(CLUSTER_SECRET.encode(), b"sluice/v1/client", hashlib.sha256).hexdigest()
    secret_file = tmp_path_factory.mktemp("secret") / "client-secret"
    secret_file.write_text(client_secret + "\n")
    try:
        yield servers, Comparison("3.5-cluster-secured", "cluster", SECURED_JOBS, servers, sluice_jar,
                                  extra_conf={"spark.sluice.auth.clientSecretFile": str(secret_file)})
    finally:
        servers.stop()


@pytest.mark.parametrize("job", SECURED_JOBS)
def test_same_result_on_a_secured_cluster(secured, job):
    servers, comparison = secured
    comparison.check(job)
    registered = harness.tail(servers.master.stderr_path, 400)
    assert "application registered" in registered, registered


# Fallback (spark.sluice.fallback=auto): a shuffle Sluice cannot take (master unreachable, no live worker) uses Spark's
# sort shuffle, gives the builtin shuffle's results, and the driver log says why. With the default (never), the same
# situation fails the job with a clear error instead.
FALLBACK_JOBS = ["rdd_reduce_by_key", "df_join"]
FALLBACK_LINE = "uses Spark's sort shuffle (spark.sluice.fallback=auto)"


class _NoServers:
    """Stands for SluiceServers when the Sluice side must not reach a master: a closed port."""

    def __init__(self):
        import socket
        with socket.socket() as probe:  # a port nobody listens on once the probe closes
            probe.bind(("127.0.0.1", 0))
            self.master_address = f"127.0.0.1:{probe.getsockname()[1]}"

    def check_alive(self):
        pass

    def stderr_tails(self, lines=15):
        return "(no Sluice servers in this test)"


def _driver_log(report) -> str:
    return (Path(report["work_dir"]) / "runner.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def fallback_unreachable(sluice_jar):
    previous = os.environ.get("SLUICE_KEEP_SPARK_WORK")
    os.environ["SLUICE_KEEP_SPARK_WORK"] = "1"
    try:
        comparison = Comparison("3.5-cluster-fallback", "cluster", FALLBACK_JOBS, _NoServers(), sluice_jar,
                                extra_conf={"spark.sluice.fallback": "auto", "spark.sluice.network.timeout": "5s"})
        comparison.reports()
        yield comparison
    finally:
        if previous is None:
            os.environ.pop("SLUICE_KEEP_SPARK_WORK", None)
        else:
            os.environ["SLUICE_KEEP_SPARK_WORK"] = previous


@pytest.mark.parametrize("job", FALLBACK_JOBS)
def test_fallback_to_sort_shuffle_when_the_master_is_unreachable(fallback_unreachable, job):
    fallback_unreachable.check(job)
    log = _driver_log(fallback_unreachable.reports()["sluice"])
    assert FALLBACK_LINE in log and "cannot be reached" in log, log[-3000:]


def test_fallback_when_the_master_has_no_worker_and_never_by_default(sluice_jar):
    bin_dir = harness.find_binaries()
    servers = harness.SluiceServers(bin_dir, workers=0)
    previous = os.environ.get("SLUICE_KEEP_SPARK_WORK")
    os.environ["SLUICE_KEEP_SPARK_WORK"] = "1"
    try:
        comparison = Comparison("3.5-local-fallback-no-workers", "local", ["rdd_reduce_by_key"], servers, sluice_jar,
                                extra_conf={"spark.sluice.fallback": "auto"})
        comparison.check("rdd_reduce_by_key")
        log = _driver_log(comparison.reports()["sluice"])
        assert FALLBACK_LINE in log and "noWorkers" in log, log[-3000:]
        conf = harness.spark_conf("local", "sluice", sluice_jar, servers.master_address, {})
        report = harness.run_batch(sys.executable, "local", "sluice", ["rdd_reduce_by_key"], conf, BATCH_TIMEOUT,
                                   label="3.5-local-no-fallback")
        entry = report["jobs"]["rdd_reduce_by_key"]
        assert not entry["ok"], "without fallback a shuffle the master cannot place must fail the job"
        assert "could not register shuffle" in entry["error"] or "noWorkers" in entry["error"], entry["error"]
    finally:
        servers.stop()
        if previous is None:
            os.environ.pop("SLUICE_KEEP_SPARK_WORK", None)
        else:
            os.environ["SLUICE_KEEP_SPARK_WORK"] = previous
