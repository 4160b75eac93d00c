"""Spark jobs for the builtin-vs-Sluice comparison. Each `job(spark)` returns a JSON-able, normalised result: the same
data must give the same value under any shuffle implementation. Jobs that must prove something happened (a skew split,
a local shuffle read, a failed first attempt, a speculative copy) put it in `facts` and also assert it, so a job whose
premise silently disappeared fails instead of comparing two meaningless results.

Runtime SQL settings are set per job with `sql_conf` and restored afterwards; context-level settings (speculation) are
the batch's (see test modules)."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import time
from operator import add

SCRATCH = "/tmp"  # set by runner.py to a per-batch directory (marker files of injected failures)
SMALL = 1500       # results with at most this many rows are returned whole (readable diffs); else digested


# -------------------------------------------------------------------------------------------------------- helpers
@contextlib.contextmanager
def sql_conf(spark, settings: dict):
    old = {k: spark.conf.get(k, None) for k in settings}
    for k, v in settings.items():
        spark.conf.set(k, str(v))
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


def _norm(x):
    """Plain JSON-able value: Rows/tuples to lists, floats rounded (aggregation order may differ legitimately)."""
    if hasattr(x, "asDict"):
        x = list(x)
    if isinstance(x, (list, tuple)):
        return [_norm(v) for v in x]
    if isinstance(x, float):
        return float(f"{x:.10g}")
    if isinstance(x, (bytes, bytearray)):
        return "sha1:" + hashlib.sha1(x).hexdigest()
    if isinstance(x, dict):
        return {str(k): _norm(v) for k, v in sorted(x.items())}
    return x


def rows(data, ordered=False):
    """Normalised rows: sorted (a multiset) unless `ordered`; whole when small, else count + sha256 + head."""
    data = [_norm(r) for r in data]
    if not ordered:
        data.sort(key=lambda r: json.dumps(r))
    if len(data) <= SMALL:
        return {"n": len(data), "rows": data}
    blob = json.dumps(data).encode()
    return {"n": len(data), "sha256": hashlib.sha256(blob).hexdigest(), "head": data[:3], "tail": data[-3:]}


def df_digest(df):
    """Order-independent digest of a (large) DataFrame computed in Spark: count and two sums of row hashes."""
    from pyspark.sql import functions as F
    cols = [F.col(c) for c in df.columns]
    r = df.select(F.hash(*cols).cast("long").alias("h1"), F.hash(F.lit(7), *cols).cast("long").alias("h2")) \
          .agg(F.count(F.lit(1)).alias("n"), F.sum("h1").alias("s1"), F.sum("h2").alias("s2")).collect()[0]
    return {"n": r["n"], "s1": r["s1"], "s2": r["s2"]}


def final_plan(df) -> str:
    """The executed plan after an action (with AQE, the final adaptive plan)."""
    return df._jdf.queryExecution().executedPlan().toString()


def shuffle_manager_class(spark) -> str:
    """Class name of the running ShuffleManager, read through fields: on Spark 4.3 any method lookup on SparkEnv (py4j's
    or Class.getMethod) loads classes that need protobuf, which pip's pyspark does not ship."""
    sc = spark.sparkContext
    jvm = sc._jvm
    module_class = jvm.java.lang.Class.forName("org.apache.spark.SparkEnv$")
    module = module_class.getField("MODULE$").get(None)
    env_field = module_class.getDeclaredField("env")
    env_field.setAccessible(True)
    env = env_field.get(module)
    env_class = jvm.java.lang.Class.forName("org.apache.spark.SparkEnv")
    for name in ("_shuffleManager", "shuffleManager", "_blockingShuffleManager"):  # 3.5, older, 4.3
        try:
            field = env_class.getDeclaredField(name)
        except Exception:  # noqa: BLE001 - py4j wraps NoSuchFieldException
            continue
        field.setAccessible(True)
        manager = field.get(env)
        if manager is not None:
            return manager.getClass().getName()
    raise RuntimeError("cannot find SparkEnv's shuffle manager field")


def _payload(i: int, size: int) -> str:
    rnd = random.Random(i)
    return "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(64)) * (size // 64)


# ------------------------------------------------------------------------------------------------------ RDD jobs
def rdd_reduce_by_key(spark):
    sc = spark.sparkContext
    r = sc.parallelize(range(200_000), 6).map(lambda i: ((i * 7919) % 5003, i)).reduceByKey(add, 7)
    out = r.collect()
    return {"rows": rows(out), "partitions": r.getNumPartitions()}


def rdd_group_by_key(spark):
    sc = spark.sparkContext
    r = sc.parallelize(range(120_000), 5).map(lambda i: (i % 2001, i)).groupByKey(6)
    out = r.mapValues(lambda vs: (len(list(vs)), sum(vs), min(vs), max(vs))).collect()
    return rows(out)


def rdd_join(spark):
    sc = spark.sparkContext
    left = sc.parallelize(range(60_000), 4).map(lambda i: (i % 9000, i))
    right = sc.parallelize(range(20_000), 3).map(lambda i: ((i * 3) % 12000, "r%d" % i))
    joined = left.join(right, 5)
    inner = joined.map(lambda kv: (kv[0], kv[1][0], kv[1][1])).collect()
    outer = left.fullOuterJoin(right, 4).map(lambda kv: (kv[0], kv[1][0], kv[1][1])).collect()
    return {"inner": rows(inner), "full_outer": rows(outer)}


def rdd_sort_by_key(spark):
    sc = spark.sparkContext
    data = sc.parallelize(range(80_000), 5).map(lambda i: ((i * 104729) % 30011, i))
    s = data.sortByKey(ascending=True, numPartitions=6)
    parts = s.glom().map(lambda p: [k for k, _ in p]).collect()
    keys = [k for p in parts for k in p]
    assert keys == sorted(keys), "sortByKey output is not ordered by key"
    desc = [k for k, _ in data.sortByKey(ascending=False, numPartitions=3).collect()]
    assert desc == sorted(desc, reverse=True), "descending sortByKey output is not ordered"
    return {"keys_sha": hashlib.sha256(json.dumps(keys).encode()).hexdigest(), "n": len(keys),
            "partition_sizes": [len(p) for p in parts], "pairs": rows(s.collect()),
            "desc_sha": hashlib.sha256(json.dumps(desc).encode()).hexdigest()}


def rdd_repartition(spark):
    sc = spark.sparkContext
    r = sc.parallelize(range(100_000), 3).repartition(11)
    sizes = r.glom().map(len).collect()
    assert sum(sizes) == 100_000
    fewer = sc.parallelize(range(5_000), 7).coalesce(2, shuffle=True)
    return {"sizes": sizes, "rows": rows(r.collect()), "coalesced": rows(fewer.collect()),
            "coalesced_partitions": fewer.getNumPartitions()}


def rdd_cogroup(spark):
    sc = spark.sparkContext
    a = sc.parallelize(range(30_000), 3).map(lambda i: (i % 1500, i))
    b = sc.parallelize(range(10_000), 2).map(lambda i: (i % 2500, -i))
    c = sc.parallelize(range(3_000), 4).map(lambda i: (i % 700, str(i)))
    def summary(kv):
        lists = [sorted(v) for v in kv[1]]
        return (kv[0], [len(v) for v in lists], hashlib.sha1(repr(lists).encode()).hexdigest())

    two = a.cogroup(b, 6).map(summary).collect()
    three = a.groupWith(b, c).map(summary).collect()
    return {"cogroup": rows(two), "group_with": rows(three)}


# ------------------------------------------------------------------------------------------------ DataFrame jobs
def _facts_table(spark, n=300_000, parts=6):
    from pyspark.sql import functions as F
    return spark.range(0, n, 1, parts).select(
        F.col("id"), (F.col("id") % 1009).alias("k"), (F.col("id") % 13).alias("m"),
        (F.col("id") * 2654435761 % 1000003).alias("v"))


def df_group_by_agg(spark):
    from pyspark.sql import functions as F
    df = _facts_table(spark).groupBy("k").agg(
        F.count("*").alias("n"), F.sum("v").alias("s"), F.min("v").alias("lo"), F.max("v").alias("hi"),
        F.countDistinct("m").alias("dm"), F.avg("v").alias("avg"))
    return rows(df.collect())


def df_join(spark):
    from pyspark.sql import functions as F
    with sql_conf(spark, {"spark.sql.autoBroadcastJoinThreshold": "-1"}):
        left = _facts_table(spark, 200_000, 5)
        right = spark.range(0, 50_000, 1, 3).select((F.col("id") * 3 % 20000).alias("k"), F.col("id").alias("rid"))
        inner = left.join(right, "k")
        res = {"inner": df_digest(inner)}
        plan_inner = final_plan(inner)
        assert "SortMergeJoin" in plan_inner, "expected a shuffled sort-merge join:\n" + plan_inner
        res["left_outer"] = df_digest(left.join(right, "k", "left_outer"))
        res["anti"] = rows(left.select("k").distinct().join(right, "k", "left_anti").collect())
    return res


def df_window(spark):
    from pyspark.sql import Window, functions as F
    w = Window.partitionBy("k").orderBy("id")
    df = _facts_table(spark, 120_000, 4).select(
        "k", "id", F.row_number().over(w).alias("rn"), F.sum("v").over(w).alias("running"),
        F.lag("v", 1).over(w).alias("prev"), F.rank().over(Window.partitionBy("m").orderBy("v", "id")).alias("rk"))
    return df_digest(df)


def df_distinct(spark):
    from pyspark.sql import functions as F
    df = spark.range(0, 200_000, 1, 5).select((F.col("id") % 777).alias("a"), (F.col("id") % 3).alias("b")).distinct()
    dd = spark.range(0, 50_000, 1, 3).select((F.col("id") % 100).alias("x")).dropDuplicates()
    return {"distinct": rows(df.collect()), "drop_duplicates": rows(dd.collect())}


def df_order_by(spark):
    from pyspark.sql import functions as F
    df = _facts_table(spark, 60_000, 4).orderBy(F.col("k").desc(), F.col("id"))
    out = [tuple(r) for r in df.select("k", "id", "v").collect()]
    keys = [(-k, i) for k, i, _ in out]
    assert keys == sorted(keys), "orderBy output is not in order"
    return {"ordered": rows(out, ordered=True),
            "top": rows(_facts_table(spark).orderBy(F.col("v").desc(), "id").limit(20).collect(), ordered=True)}


# ---------------------------------------------------------------------------------------------------------- AQE
def aqe_coalesce(spark):
    from pyspark.sql import functions as F
    with sql_conf(spark, {"spark.sql.adaptive.enabled": "true",
                          "spark.sql.adaptive.coalescePartitions.enabled": "true",
                          "spark.sql.adaptive.coalescePartitions.minPartitionSize": "1b",
                          "spark.sql.adaptive.advisoryPartitionSizeInBytes": "64k",
                          "spark.sql.shuffle.partitions": "200"}):
        df = _facts_table(spark, 200_000, 4).groupBy("k").agg(F.sum("v").alias("s"), F.count("*").alias("n"))
        out = df.collect()
        plan = final_plan(df)
        coalesced = "AQEShuffleRead" in plan and "coalesced" in plan
        assert coalesced, "AQE did not coalesce the shuffle partitions:\n" + plan
        n_parts = df.rdd.getNumPartitions()
    return {"rows": rows(out), "facts": {"coalesced": coalesced, "fewer_than_200": n_parts < 200}}


def aqe_skew_join(spark):
    from pyspark.sql import functions as F
    settings = {"spark.sql.adaptive.enabled": "true",
                "spark.sql.adaptive.skewJoin.enabled": "true",
                "spark.sql.adaptive.skewJoin.skewedPartitionFactor": "2",
                "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes": "32k",
                "spark.sql.adaptive.advisoryPartitionSizeInBytes": "32k",
                "spark.sql.adaptive.coalescePartitions.enabled": "false",
                "spark.sql.autoBroadcastJoinThreshold": "-1",
                "spark.sql.shuffle.partitions": "16"}
    with sql_conf(spark, settings):
        # Half of the 200k left rows have key 0: one reduce partition is far larger than the median.
        left = spark.range(0, 200_000, 1, 6).select(
            F.when(F.col("id") % 2 == 0, F.lit(0)).otherwise(F.col("id") % 997).alias("k"), F.col("id").alias("lid"))
        right = spark.range(0, 3_000, 1, 2).select((F.col("id") % 997).alias("k"), F.col("id").alias("rid"))
        joined = left.join(right, "k")
        agg = joined.groupBy((F.col("k") % 10).alias("g")).agg(
            F.count("*").alias("n"), F.sum("lid").alias("sl"), F.sum("rid").alias("sr"))
        out = agg.collect()
        plan = final_plan(agg)
        split = "skew=true" in plan
        assert split, "AQE did not split the skewed partition (no skew=true in the final plan):\n" + plan
    return {"rows": rows(out), "facts": {"skew_split": split}}


def aqe_local_shuffle_reader(spark):
    from pyspark.sql import functions as F
    settings = {"spark.sql.adaptive.enabled": "true",
                "spark.sql.adaptive.localShuffleReader.enabled": "true",
                "spark.sql.autoBroadcastJoinThreshold": "200k",  # static estimates (>1 MB) say: sort-merge join
                "spark.sql.adaptive.autoBroadcastJoinThreshold": "200k",
                "spark.sql.adaptive.coalescePartitions.enabled": "false",
                "spark.sql.shuffle.partitions": "12"}
    with sql_conf(spark, settings):
        left = _facts_table(spark, 150_000, 4)
        # The filter keeps 1 row in 1000; without CBO the planner still estimates the full size.
        right = spark.range(0, 150_000, 1, 3).where(F.col("id") % 1000 == 7) \
                     .select((F.col("id") % 1009).alias("k"), F.col("id").alias("rid"))
        joined = left.join(right, "k")
        digest = df_digest(joined)
        joined.collect()
        plan = final_plan(joined)
        converted = "BroadcastHashJoin" in plan
        local_read = "AQEShuffleRead local" in plan
        assert converted and local_read, \
            "AQE did not turn the join into a broadcast join with a local shuffle read:\n" + plan
    return {"digest": digest, "facts": {"broadcast_at_runtime": converted, "local_shuffle_read": local_read}}


# ---------------------------------------------------------------------------------------------------- edge cases
def one_partition(spark):
    from pyspark.sql import functions as F
    sc = spark.sparkContext
    r = sc.parallelize(range(20_000), 1).map(lambda i: (i % 301, i)).reduceByKey(add, 1)
    with sql_conf(spark, {"spark.sql.shuffle.partitions": "1"}):
        df = spark.range(0, 20_000, 1, 1).groupBy((F.col("id") % 301).alias("k")).agg(F.sum("id").alias("s"))
        d = df.collect()
        assert df.rdd.getNumPartitions() == 1
    return {"rdd": rows(r.collect()), "rdd_partitions": r.getNumPartitions(), "df": rows(d)}


def many_partitions(spark):
    """2,000 reduce partitions (JVM-only stages: a Python task costs 50-150 ms on a busy 2-core machine)."""
    from pyspark.sql import functions as F
    with sql_conf(spark, {"spark.sql.shuffle.partitions": "2000"}):
        df = spark.range(0, 100_000, 1, 4).groupBy((F.col("id") % 5000).alias("k")).agg(F.sum("id").alias("s"))
        d = df.collect()
        assert df.rdd.getNumPartitions() == 2000
    spread = spark.range(0, 30_000, 1, 3).repartition(2000, "id")
    sizes = spread.groupBy(F.spark_partition_id().alias("p")).count()
    assert spread.rdd.getNumPartitions() == 2000
    return {"df": rows(d), "repartition_sizes": rows(sizes.collect())}


def empty_partitions(spark):
    from pyspark.sql import functions as F
    sc = spark.sparkContext
    # Most map partitions empty (10 records in 12 slices), most reduce partitions empty (3 keys over 24 partitions).
    sparse = sc.parallelize(range(10), 12).map(lambda i: (i % 3, i)).reduceByKey(add, 24).glom().collect()
    nothing = sc.parallelize([], 3).map(lambda i: (i, 1)).reduceByKey(add, 4).collect()
    with sql_conf(spark, {"spark.sql.shuffle.partitions": "50"}):
        df_empty = spark.range(0, 1000, 1, 4).where("id < 0").groupBy("id").count().collect()
        df_few = spark.range(0, 1000, 1, 4).groupBy((F.col("id") % 2).alias("k")).count().collect()
        df_sparse = spark.range(0, 40, 1, 20).where("id % 7 = 0").groupBy("id").count()
        df_sparse_rows = df_sparse.collect()
    return {"sparse": rows([kv for p in sparse for kv in p]), "sparse_nonempty": sum(1 for p in sparse if p),
            "sparse_partitions": len(sparse), "empty": nothing,
            "df_empty": rows(df_empty), "df_few": rows(df_few), "df_sparse": rows(df_sparse_rows)}


def big_records(spark):
    """Records from 300 KiB to 1.2 MiB: each bigger than a 256 KiB push buffer."""
    from pyspark.sql import functions as F
    sc = spark.sparkContext
    sizes = [300 * 1024 + (i * 37_000) % (900 * 1024) for i in range(40)]
    recs = sc.parallelize(list(enumerate(sizes)), 4).map(lambda t: (t[0] % 6, _payload(t[0], t[1])))
    grouped = recs.groupByKey(3).mapValues(
        lambda vs: sorted((len(v), hashlib.sha1(v.encode()).hexdigest()) for v in vs)).collect()
    df = spark.createDataFrame([(i, s) for i, s in enumerate(sizes)], "i long, size long") \
        .repartition(4) \
        .select("i", F.expr("repeat(sha2(cast(i as string), 256), cast(size / 64 as int))").alias("blob")) \
        .repartition(3, "i").select("i", F.length("blob").alias("len"), F.sha2("blob", 256).alias("h"))
    return {"rdd": rows(grouped), "df": rows(df.collect())}


# ------------------------------------------------------------------------------------------------ retries
def _marker(name: str) -> str:
    return os.path.join(SCRATCH, name)


def retry_rdd_map_failure(spark):
    """Map task 2 fails on its first attempt after its output has gone to the shuffle writer; the retry succeeds."""
    sc = spark.sparkContext
    marker = _marker("rdd-map-failed-once")
    attempts = sc.accumulator(0)

    def produce(index, it):
        from pyspark import TaskContext
        ctx = TaskContext.get()
        n = 0
        for i in it:
            yield (i % 97, "%d:%s" % (i, "x" * 900))  # ~1 KB records: MBs reach the writer before the failure
            n += 1
            if index == 2 and ctx.attemptNumber() == 0 and n == 6_000:
                open(marker, "w").write(str(ctx.taskAttemptId()))
                raise RuntimeError("injected failure of map task 2, attempt 0, after 6000 records")
        if index == 2:
            attempts.add(ctx.attemptNumber())

    r = sc.parallelize(range(40_000), 4).mapPartitionsWithIndex(produce).partitionBy(5) \
          .mapPartitions(lambda it: _count_per_key(it))
    out = r.collect()
    failed = os.path.exists(marker)
    assert failed, "the injected first-attempt failure did not happen"
    assert attempts.value >= 1, "map task 2 did not succeed on a retry"
    return {"rows": rows(out), "facts": {"first_attempt_failed": failed, "retried": attempts.value >= 1}}


def _count_per_key(it):
    acc = {}
    for k, v in it:
        n, s = acc.get(k, (0, 0))
        acc[k] = (n + 1, s + int(v.split(":", 1)[0]))
    return iter(sorted(acc.items()))


def retry_df_map_failure(spark):
    """DataFrame map stage: a Python UDF fails in partition 1's first attempt after 20,000 rows went to the writer."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType
    marker = _marker("df-map-failed-once")

    def tag(i):
        from pyspark import TaskContext
        ctx = TaskContext.get()
        if ctx.partitionId() == 1 and ctx.attemptNumber() == 0 and ctx.stageId() >= 0:
            tag.count = getattr(tag, "count", 0) + 1
            if tag.count >= 20_000:
                open(marker, "w").write(str(ctx.taskAttemptId()))
                raise RuntimeError("injected failure of map partition 1, attempt 0")
        return "%d-%s" % (i % 50, "y" * 200)

    udf = F.udf(tag, StringType())
    with sql_conf(spark, {"spark.sql.shuffle.partitions": "6"}):
        df = spark.range(0, 120_000, 1, 3).select("id", udf("id").alias("t")) \
                  .groupBy(F.substring_index("t", "-", 1).alias("g")) \
                  .agg(F.count("*").alias("n"), F.sum("id").alias("s"), F.sum(F.length("t")).alias("bytes"))
        out = df.collect()
    failed = os.path.exists(marker)
    assert failed, "the injected first-attempt failure did not happen"
    return {"rows": rows(out), "facts": {"first_attempt_failed": failed}}


def speculation_straggler(spark):
    """With spark.speculation on (batch setting): map task 3's first attempt writes part of its output and then stalls;
    a speculative copy on the other executor finishes the stage. Needs executors on different hosts."""
    sc = spark.sparkContext
    marker = _marker("straggler-started")
    winners = sc.accumulator(0)

    def produce(index, it):
        from pyspark import TaskContext
        ctx = TaskContext.get()
        n = 0
        for i in it:
            yield (i % 31, "%d:%s" % (i, "z" * 500))
            n += 1
            if index == 3 and ctx.attemptNumber() == 0 and n == 3_000:
                open(marker, "w").write(str(ctx.taskAttemptId()))
                time.sleep(90)  # the straggler (job behaviour): the speculative copy must win long before this
        if index == 3:
            winners.add(ctx.attemptNumber())

    started = time.monotonic()
    r = sc.parallelize(range(24_000), 6).mapPartitionsWithIndex(produce).partitionBy(4) \
          .mapPartitions(lambda it: _count_per_key(it))
    out = r.collect()
    took = time.monotonic() - started
    straggled = os.path.exists(marker)
    assert straggled, "the straggler did not start"
    assert winners.value >= 1, "no speculative copy of the straggler finished (attempt 0 won)"
    assert took < 80, f"the job waited for the straggler ({took:.0f}s)"
    return {"rows": rows(out), "facts": {"straggler_started": straggled, "speculative_copy_won": winners.value >= 1}}
