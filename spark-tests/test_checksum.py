"""Spark 4.1+'s order-independent row checksum with Sluice (docs/spark.md, "Row checksum"): on each 4.x minor that has
it, the values the map tasks report equal the builtin shuffle's, and a nondeterministic map stage that runs twice is
detected and (with full retry) handled as with the builtin shuffle. The jobs are in checksum_jobs.py; the fetch failure
that makes the map stage run twice is injected by listener/SluiceFetchFailure.java, compiled here against this
pyspark's jars. Run with a 4.1+ venv of scripts/spark-tests.sh:
    .cache/pyspark-4.2/bin/python -m pytest spark-tests/test_checksum.py
"""
import pytest

from conftest import Comparison, compile_java_jar, pyspark_version

_minor = tuple(int(x) for x in pyspark_version().split(".")[:2]) if pyspark_version()[0].isdigit() else (0, 0)
pytestmark = pytest.mark.skipif(_minor < (4, 1), reason=f"needs pyspark 4.1+ (this one has {pyspark_version()})")

JOBS = ["checksum_jobs:row_checksums", "checksum_jobs:nondeterministic_retry"]


@pytest.fixture(scope="module")
def injector_jar():
    """SluiceFetchFailure compiled against this pyspark's jars, in a temporary jar."""
    with compile_java_jar("SluiceFetchFailure") as jar:
        yield jar


@pytest.fixture(scope="module")
def comparison(sluice_servers, sluice_jar, injector_jar):
    line = ".".join(pyspark_version().split(".")[:2])
    extra = {"spark.driver.extraClassPath": str(injector_jar), "spark.executor.extraClassPath": str(injector_jar)}
    return Comparison(f"{line}-checksum", "local", JOBS, sluice_servers, sluice_jar, extra_conf=extra, via="jars")


def test_shuffle_manager_in_use(comparison):
    comparison.check_manager()


@pytest.mark.parametrize("job", JOBS)
def test_same_checksum_behaviour_as_the_builtin_shuffle(comparison, job):
    comparison.check(job)
