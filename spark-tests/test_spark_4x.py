"""Smoke set on each Spark 4.x minor (4.0 to 4.3, Scala 2.13), all with the one Spark 4 jar
(sluice-spark-4_2.13-VERSION.jar): the jar's static references resolve against this Spark's jars; a few jobs in
local[2] and one in local-cluster with the jar added through spark.jars, and one in local-cluster with it on the
extraClassPath (where the jar's copy of BlockingShuffleManager comes before Spark's on 4.3); results with the builtin
shuffle and with Sluice must be equal. Run with a 4.x venv of scripts/spark-tests.sh:
    .cache/pyspark-4.1/bin/python -m pytest spark-tests/test_spark_4x.py
"""
import pytest

from conftest import Comparison, check_links, pyspark_version

pytestmark = pytest.mark.skipif(not pyspark_version().startswith("4."),
                                reason=f"needs pyspark 4.x (this interpreter has {pyspark_version()})")

LOCAL_JOBS = ["rdd_reduce_by_key", "rdd_join", "df_group_by_agg", "df_join", "df_window", "aqe_skew_join",
              "empty_partitions", "big_records", "retry_rdd_map_failure"]
CLUSTER_JOBS = ["df_group_by_agg"]
CASES = [("local", j) for j in LOCAL_JOBS] + [("cluster", j) for j in CLUSTER_JOBS] \
    + [("cluster-classpath", j) for j in CLUSTER_JOBS]


@pytest.fixture(scope="module")
def comparisons(sluice_servers, sluice_jar):
    line = ".".join(pyspark_version().split(".")[:2])
    return {"local": Comparison(f"{line}-local", "local", LOCAL_JOBS, sluice_servers, sluice_jar, via="jars"),
            "cluster": Comparison(f"{line}-cluster", "cluster", CLUSTER_JOBS, sluice_servers, sluice_jar, via="jars"),
            "cluster-classpath": Comparison(f"{line}-cluster-classpath", "cluster", CLUSTER_JOBS, sluice_servers,
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
