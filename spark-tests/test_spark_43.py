"""Smoke set on Spark 4.3.0 (Scala 2.13, the BlockingShuffleManager shim): a few jobs in local[2] and one in
local-cluster; results with the builtin shuffle and with Sluice must be equal. Run with the 4.3 venv:
    .cache/pyspark-4.3/bin/python -m pytest spark-tests/test_spark_43.py
"""
import pytest

from conftest import Comparison, pyspark_version

pytestmark = pytest.mark.skipif(not pyspark_version().startswith("4.3."),
                                reason=f"needs pyspark 4.3.x (this interpreter has {pyspark_version()})")

LOCAL_JOBS = ["rdd_reduce_by_key", "rdd_join", "df_group_by_agg", "df_join", "df_window", "aqe_skew_join",
              "empty_partitions", "big_records", "retry_rdd_map_failure"]
CLUSTER_JOBS = ["df_group_by_agg"]
CASES = [("local", j) for j in LOCAL_JOBS] + [("cluster", j) for j in CLUSTER_JOBS]


@pytest.fixture(scope="module")
def comparisons(sluice_servers, sluice_jar):
    return {"local": Comparison("4.3-local", "local", LOCAL_JOBS, sluice_servers, sluice_jar),
            "cluster": Comparison("4.3-cluster", "cluster", CLUSTER_JOBS, sluice_servers, sluice_jar)}


@pytest.mark.parametrize("mode", ["local", "cluster"])
def test_shuffle_manager_in_use(comparisons, mode):
    comparisons[mode].check_manager()


@pytest.mark.parametrize("mode,job", CASES)
def test_same_result(comparisons, mode, job):
    comparisons[mode].check(job)
