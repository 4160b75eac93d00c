"""Each Spark 4.x minor (4.0 to 4.3, Scala 2.13), all with the one Spark 4 jar (sluice-spark-4_2.13-VERSION.jar):
the jar's static references resolve against this Spark's jars; a smoke set of jobs in local[2] and one in
local-cluster with the jar added through spark.jars (the newest line, 4.3: the full job set in both, as on 3.5), and
one in local-cluster with it on the extraClassPath (where the jar's copy of BlockingShuffleManager comes before
Spark's on 4.3); results with the builtin shuffle and with Sluice must be equal. Run with a 4.x venv of scripts/spark-tests.sh:
    .cache/pyspark-4.1/bin/python -m pytest spark-tests/test_spark_4x.py
"""
import pytest

from conftest import JOB_SET, NEWEST_SPARK_LINE, Comparison, check_links, pyspark_version

pytestmark = pytest.mark.skipif(not pyspark_version().startswith("4."),
                                reason=f"needs pyspark 4.x (this interpreter has {pyspark_version()})")

SMOKE_LOCAL_JOBS = ["rdd_reduce_by_key", "rdd_join", "df_group_by_agg", "df_join", "df_window", "aqe_skew_join",
                    "empty_partitions", "big_records", "retry_rdd_map_failure"]
SMOKE_CLUSTER_JOBS = ["df_group_by_agg"]
# The newest line runs the full job set in both modes, as 3.5 does.
NEWEST = ".".join(pyspark_version().split(".")[:2]) == NEWEST_SPARK_LINE
LOCAL_JOBS = JOB_SET if NEWEST else SMOKE_LOCAL_JOBS
CLUSTER_JOBS = JOB_SET if NEWEST else SMOKE_CLUSTER_JOBS
CASES = [("local", j) for j in LOCAL_JOBS] + [("cluster", j) for j in CLUSTER_JOBS] \
    + [("cluster-classpath", j) for j in SMOKE_CLUSTER_JOBS]


@pytest.fixture(scope="module")
def comparisons(sluice_servers, sluice_jar):
    line = ".".join(pyspark_version().split(".")[:2])
    return {"local": Comparison(f"{line}-local", "local", LOCAL_JOBS, sluice_servers, sluice_jar, via="jars"),
            "cluster": Comparison(f"{line}-cluster", "cluster", CLUSTER_JOBS, sluice_servers, sluice_jar, via="jars"),
            "cluster-classpath": Comparison(f"{line}-cluster-classpath", "cluster", SMOKE_CLUSTER_JOBS, sluice_servers,
                                            sluice_jar, via="classpath")}


def test_client_links_against_this_spark(sluice_jar):
    """Every class, field and method the jar references statically exists in this Spark's jars (tools/LinkCheck)."""
    check_links(sluice_jar)


@pytest.mark.parametrize("mode", ["local", "cluster", "cluster-classpath"])
def test_shuffle_manager_in_use(comparisons, mode):
    comparisons[mode].check_manager()


@pytest.mark.parametrize("mode,job", CASES)
def test_same_result(comparisons, mode, job):
    comparisons[mode].check(job)
