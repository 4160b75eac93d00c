"""Full matrix on Spark 3.5.9: every job from jobs.py with the builtin shuffle and with Sluice, in local[2] (threads)
and local-cluster[2,1,1024] (two executor JVMs); results must be equal. Run with the 3.5 venv:
    .cache/pyspark-3.5/bin/python -m pytest tests/spark/test_spark_35.py
"""
import pytest

from conftest import Comparison, pyspark_version

pytestmark = pytest.mark.skipif(not pyspark_version().startswith("3.5."),
                                reason=f"needs pyspark 3.5.x (this interpreter has {pyspark_version()})")

JOBS = [
    "rdd_reduce_by_key", "rdd_group_by_key", "rdd_join", "rdd_sort_by_key", "rdd_repartition", "rdd_cogroup",
    "df_group_by_agg", "df_join", "df_window", "df_distinct", "df_order_by",
    "aqe_coalesce", "aqe_skew_join", "aqe_local_shuffle_reader",
    "one_partition", "many_partitions", "empty_partitions", "big_records",
    "retry_rdd_map_failure", "retry_df_map_failure",
]
MODES = ["local", "cluster"]


@pytest.fixture(scope="module")
def comparisons(sluice_servers, sluice_jar):
    return {mode: Comparison(f"3.5-{mode}", mode, JOBS, sluice_servers, sluice_jar) for mode in MODES}


@pytest.mark.parametrize("mode", MODES)
def test_shuffle_manager_in_use(comparisons, mode):
    comparisons[mode].check_manager()


@pytest.mark.parametrize("job", JOBS)
@pytest.mark.parametrize("mode", MODES)
def test_same_result(comparisons, mode, job):
    comparisons[mode].check(job)
