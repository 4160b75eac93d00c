"""Jobs for Spark 4.1+'s order-independent row checksum (SPARK-51756), compared builtin vs Sluice by
test_checksum.py. A map task's MapStatus carries a checksum of its output rows that does not depend on their order;
when a map task runs again and reports a different value, Spark's ShuffleStatus records the map index
(`checksumMismatchIndices`) and, with `...enableFullRetryOnMismatch`, reruns the consuming stages in full instead of
mixing the old and the new output. A shuffle service that reports 0 (Celeborn) or nothing silently turns this off.

`row_checksums` reads the values the map tasks reported; `nondeterministic_retry` makes a map stage whose tasks output
different rows when they run again run twice (a FetchFailedException injected into the first attempt of one reading
task, SluiceFetchFailure.java, on the driver's and executors' class path) and reports what Spark detected and whether
the final result comes from one attempt's rows only."""
from __future__ import annotations

from jobs import sql_conf

CHECKSUM_CONF = {
    "spark.sql.shuffle.orderIndependentChecksum.enabled": "true",
    "spark.sql.shuffle.orderIndependentChecksum.enableFullRetryOnMismatch": "true",
    "spark.sql.adaptive.enabled": "false",
}


def _field(jvm, obj, class_name: str, name: str):
    """A (private) field of a JVM object, read by reflection: py4j's method lookup on SparkEnv loads classes that need
    protobuf on some 4.x releases, which pip's pyspark does not ship."""
    field = jvm.java.lang.Class.forName(class_name).getDeclaredField(name)
    field.setAccessible(True)
    return field.get(obj)


def _shuffle_statuses(spark) -> dict:
    """The driver's ShuffleStatus of every registered shuffle, by shuffle id."""
    jvm = spark.sparkContext._jvm
    module_class = jvm.java.lang.Class.forName("org.apache.spark.SparkEnv$")
    env = _field(jvm, module_class.getField("MODULE$").get(None), "org.apache.spark.SparkEnv$", "env")
    tracker = _field(jvm, env, "org.apache.spark.SparkEnv", "mapOutputTracker")
    statuses = _field(jvm, tracker, "org.apache.spark.MapOutputTrackerMaster", "shuffleStatuses")
    out = {}
    keys = statuses.keysIterator()
    while keys.hasNext():
        shuffle_id = keys.next()
        out[int(shuffle_id)] = statuses.get(shuffle_id).get()
    return out


def _checksums(status) -> list[int]:
    return [int(s.checksumValue()) if s is not None else None for s in status.mapStatuses()]


def _scala_ints(collection) -> list[int]:
    out, it = [], collection.iterator()
    while it.hasNext():
        out.append(int(it.next()))
    return sorted(out)


def row_checksums(spark):
    """A DataFrame shuffle with the checksum on: the values its map tasks reported (equal builtin and Sluice only if
    Sluice's writer computes them as Spark's writers do; non-zero)."""
    before = set(_shuffle_statuses(spark))
    with sql_conf(spark, CHECKSUM_CONF):
        df = spark.range(0, 60_000, 1, 4).selectExpr("id % 17 AS k", "id * 3 AS v", "cast(id AS string) AS s") \
            .repartition(6, "k")
        n = df.count()
    statuses = _shuffle_statuses(spark)
    new = sorted(set(statuses) - before)
    assert new, "no new shuffle registered"
    values = [_checksums(statuses[i]) for i in new]
    assert any(v not in (0, None) for shuffle in values for v in shuffle), f"every checksum is 0: {values}"
    return {"count": n, "checksums": values}


N_ROWS = 20_000
_FIRST_RUN = {}  # partition -> task attempt id that ran it first, per Python worker (backed by marker files)


def _scratch_dir() -> str:
    import jobs
    return jobs.SCRATCH


def _rerun(scratch: str) -> int:
    """0 in the first task attempt that computes this partition, 1 in every later one (a marker file per partition
    names the first attempt)."""
    import os
    from pyspark import TaskContext
    ctx = TaskContext.get()
    partition, attempt = ctx.partitionId(), ctx.taskAttemptId()
    first = _FIRST_RUN.get(partition)
    if first is None:
        marker = os.path.join(scratch, f"checksum-map-{partition}")
        try:
            with open(marker, "x") as f:
                f.write(str(attempt))
            first = attempt
        except FileExistsError:
            with open(marker) as f:
                first = int(f.read() or -1)
        _FIRST_RUN[partition] = first
    return 0 if attempt == first else 1


def nondeterministic_retry(spark):
    """A map stage whose rows differ when a map task runs again (a Python UDF adds 1 once the partition has run
    before) runs a second time after an injected fetch failure. Spark must see the checksum mismatch and, with full
    retry on, rerun the consumer in full: then every summed row comes from the second run."""
    from pyspark.sql import functions as F

    scratch = _scratch_dir()

    @F.udf("long")
    def shifted(i):
        return i * 10 + _rerun(scratch)

    jvm = spark.sparkContext._jvm
    before = set(_shuffle_statuses(spark))
    with sql_conf(spark, CHECKSUM_CONF):
        df = spark.range(0, N_ROWS, 1, 4).select((F.col("id") % 13).alias("k"), shifted("id").alias("v")) \
            .repartition(4, "k")
        total, keys = jvm.SluiceFetchFailure.sumFailingOnce(df._jdf.rdd(), 3)
    statuses = _shuffle_statuses(spark)
    mismatches = {i: _scala_ints(statuses[i].checksumMismatchIndices()) for i in sorted(set(statuses) - before)}
    base = sum(i * 10 for i in range(N_ROWS))
    reran = total - base  # rows that came from a second run of their map task
    facts = {"mismatch_detected": any(mismatches.values()), "rows_from_one_run": reran in (0, N_ROWS),
             "rows_from_second_run": reran}
    assert facts["mismatch_detected"], f"Spark detected no checksum mismatch: {mismatches}"
    return {"keys": keys, "mismatch_indices": mismatches, "facts": facts}
