#!/usr/bin/env python3
"""Spark benchmark: the same shuffle-heavy job (a DataFrame groupBy aggregation and a sort-merge join) with Spark's
builtin shuffle and with Sluice, in local-cluster mode, interleaved (the order of the sides rotates every round), one
SparkContext per run (each run in its own subprocess, under a timeout). Prints each run's wall time and shuffle bytes
(from Spark's status store) and the median ratio of each Sluice side to builtin. Starts a sluice-master and two
sluice-workers itself (.build/release, else debug).

Sides: `builtin` (Spark's sort shuffle on local disk), `sluice` (the client's defaults: every partition on a primary
and a replica worker, LZ4) and `sluice-r1` (the same with spark.sluice.replicate=false: one copy, as builtin keeps).

    .cache/pyspark-3.5/bin/python Benchmarks/spark/spark_bench.py [--rounds 2] [--rows 14000000] [--sides builtin,sluice]
    .cache/pyspark-3.5/bin/python Benchmarks/spark/spark_bench.py --job many-partitions [--maps 200 --reducers 2000]
    make spark-bench

--builtin-only (or no jar) runs builtin against builtin, to check the harness.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "spark-tests"))
import harness  # noqa: E402

MASTER = "local-cluster[2,1,2048]"
# Extra Spark settings of each side (on top of harness.spark_conf).
SIDE_CONF = {"builtin": {}, "sluice": {}, "sluice-r1": {"spark.sluice.replicate": "false"}, "sluice-b": {}}


def job(spark, rows: int) -> dict:
    """groupBy over ~unique string keys (partial aggregation cannot shrink it) + a join with shuffled sides."""
    from pyspark.sql import functions as F
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    spark.conf.set("spark.sql.adaptive.enabled", "false")
    spark.conf.set("spark.sql.shuffle.partitions", "16")
    # sha2 hex: effectively incompressible for lz4, so the shuffle bytes stay close to the data size.
    base = spark.range(0, rows, 1, 8).select(F.col("id"), F.sha2(F.col("id").cast("string"), 256).alias("h"))
    grouped = base.groupBy(F.substring("h", 1, 48).alias("g")) \
                  .agg(F.count("*").alias("n"), F.sum("id").alias("s"))
    g = grouped.agg(F.count("*").alias("groups"), F.sum("n").alias("rows"), F.sum("s").alias("s")).collect()[0]
    right = spark.range(0, rows // 2, 1, 8).select((F.col("id") * 2).alias("id"),
                                                   F.sha2(F.col("id").cast("string"), 224).alias("h2"))
    joined = base.join(right, "id")
    j = joined.agg(F.count("*").alias("n"), F.sum(F.crc32(F.concat("h", "h2"))).alias("c")).collect()[0]
    return {"groups": g["groups"], "group_rows": g["rows"], "group_sum": g["s"], "join_rows": j["n"],
            "join_crc": j["c"]}


def many_partitions_job(spark, maps: int, reducers: int, pairs: int) -> dict:
    """A PySpark RDD reduceByKey of small pairs: `maps` map tasks each writing a little to each of `reducers`
    partitions (the shape of `spark.sql.shuffle.partitions` in the thousands, where per-partition cost shows)."""
    sc = spark.sparkContext
    per_map = pairs // maps
    keys = reducers * 50

    def pairs_of(m):
        start = m * per_map
        return ((k % keys, k) for k in range(start, start + per_map))

    summed = sc.parallelize(range(maps), maps).flatMap(pairs_of).reduceByKey(lambda a, b: a + b, reducers)
    n, total = summed.map(lambda kv: (1, kv[1])).reduce(lambda a, b: (a[0] + b[0], a[1] + b[1]))
    return {"keys": n, "sum": total}


def stage_seconds(spark) -> tuple[float, float]:
    """Seconds of the stages that wrote shuffle data (map side) and of the others (reduce side), from the store."""
    store = spark.sparkContext._jsc.sc().statusStore()
    defaults = [getattr(store, f"stageList$default${i}")() for i in range(2, 6)]
    stages = store.stageList(None, *defaults)
    write = other = 0.0
    for i in range(stages.size()):
        s = stages.apply(i)
        if s.submissionTime().isEmpty() or s.completionTime().isEmpty():
            continue
        seconds = (s.completionTime().get().getTime() - s.submissionTime().get().getTime()) / 1000
        if s.shuffleWriteBytes() > 0:
            write += seconds
        else:
            other += seconds
    return write, other


def shuffle_bytes(spark) -> tuple[int, int]:
    """Total shuffle write and read bytes of all stages so far, from the status store (works with the UI off)."""
    store = spark.sparkContext._jsc.sc().statusStore()
    defaults = [getattr(store, f"stageList$default${i}")() for i in range(2, 6)]  # Scala default arguments
    stages = store.stageList(None, *defaults)
    write = read = 0
    for i in range(stages.size()):
        s = stages.apply(i)
        write += s.shuffleWriteBytes()
        read += s.shuffleReadBytes()
    return write, read


def worker(spec_path: str) -> int:
    spec = json.load(open(spec_path))
    from pyspark.sql import SparkSession
    b = SparkSession.builder.master(spec["master"]).appName("sluice-spark-bench")
    for k, v in spec["conf"].items():
        b = b.config(k, v)
    t0 = time.monotonic()
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    started = time.monotonic() - t0
    t1 = time.monotonic()
    if spec["job"] == "many-partitions":
        result = many_partitions_job(spark, spec["maps"], spec["reducers"], spec["pairs"])
    else:
        result = job(spark, spec["rows"])
    seconds = time.monotonic() - t1
    write, read = shuffle_bytes(spark)
    map_s, reduce_s = stage_seconds(spark)
    from jobs import shuffle_manager_class
    manager = shuffle_manager_class(spark)
    spark.stop()
    json.dump({"seconds": seconds, "startup": started, "write": write, "read": read, "result": result,
               "manager": manager, "map_s": map_s, "reduce_s": reduce_s}, open(spec["out"], "w"))
    return 0


def run_once(side: str, conf: dict, args, timeout_s: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"sluice-spark-bench-{side}-"))
    spec = {"master": MASTER, "conf": conf, "rows": args.rows, "job": args.job, "maps": args.maps,
            "reducers": args.reducers, "pairs": args.pairs, "out": str(work / "out.json")}
    (work / "spec.json").write_text(json.dumps(spec))
    log = work / "log.txt"
    with open(log, "wb") as f:
        p = subprocess.Popen([sys.executable, __file__, "--worker", str(work / "spec.json")], stdout=f,
                             stderr=subprocess.STDOUT, env=harness.child_env(work), start_new_session=True)
        try:
            p.wait(timeout_s)
        except subprocess.TimeoutExpired:
            pass
        finally:
            harness._kill_group(p)
    if p.returncode != 0 or not Path(spec["out"]).exists():
        raise SystemExit(f"{side} run failed (exit {p.returncode}); log tail:\n{harness.tail(log, 40)}\n"
                         f"{harness.executor_stderr_tails(work)}")
    return json.loads(Path(spec["out"]).read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--rows", type=int, default=14_000_000,
                    help="rows of the base table (default 14M: ~2.1 GB shuffled, ~150 bytes per row)")
    ap.add_argument("--job", choices=["groupby-join", "many-partitions"], default="groupby-join",
                    help="groupby-join: DataFrame aggregation and join, ~150-byte rows; many-partitions: an RDD "
                         "reduceByKey of small pairs from --maps map tasks into --reducers partitions")
    ap.add_argument("--maps", type=int, default=200, help="many-partitions: map tasks")
    ap.add_argument("--reducers", type=int, default=2000, help="many-partitions: reduce partitions")
    ap.add_argument("--pairs", type=int, default=4_000_000, help="many-partitions: pairs in all")
    ap.add_argument("--serializer", choices=["kryo", "java"], default="kryo",
                    help="spark.serializer of the many-partitions job (RDD records go through it)")
    ap.add_argument("--jar-b", type=Path, help="side sluice-b: the sluice side with this client jar instead (an "
                                              "interleaved A/B of two client builds)")
    ap.add_argument("--timeout", type=float, default=1200, help="seconds per run")
    ap.add_argument("--builtin-only", action="store_true", help="both sides builtin (harness check, no jar needed)")
    ap.add_argument("--sides", default="builtin,sluice,sluice-r1",
                    help="comma list of builtin, sluice (replicated, the default), sluice-r1 (replicate=false)")
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker)

    jar = harness.find_jar()
    dry = args.builtin_only or jar is None
    if jar is None and not args.builtin_only:
        print("no Sluice client jar (clients/spark/build/sluice-spark-*.jar or SLUICE_SPARK_JAR): "
              "running builtin against builtin")
    bin_dir = harness.find_binaries(prefer_release=True)
    if bin_dir is None:
        raise SystemExit("sluice-master/sluice-worker not built (swift build -c release)")
    servers = harness.SluiceServers(bin_dir, workers=2)
    print(f"servers from {bin_dir}: master {servers.master_address}, workers {servers.worker_addresses}")
    extra = {"spark.executor.memory": "1536m", "spark.driver.memory": "1g"}
    if args.job == "many-partitions" and args.serializer == "kryo":
        extra["spark.serializer"] = "org.apache.spark.serializer.KryoSerializer"
    sides = [side.strip() for side in args.sides.split(",") if side.strip()]
    if "sluice-b" in sides and args.jar_b is None:
        raise SystemExit("side sluice-b needs --jar-b")
    if "builtin" not in sides or any(side not in SIDE_CONF for side in sides):
        raise SystemExit(f"--sides must include builtin and name only {', '.join(SIDE_CONF)}")
    times = {side: [] for side in sides}
    map_times = {side: [] for side in sides}
    other_times = {side: [] for side in sides}
    results = set()
    try:
        for r in range(args.rounds):
            order = sides[r % len(sides):] + sides[:r % len(sides)]
            for side in order:
                shuffle = "builtin" if side == "builtin" or dry else "sluice"
                side_jar = args.jar_b if side == "sluice-b" else jar
                conf = harness.spark_conf("cluster", shuffle, side_jar, servers.master_address,
                                          {**extra, **SIDE_CONF[side]})
                out = run_once(side, conf, args, args.timeout)
                servers.check_alive()
                times[side].append(out["seconds"])
                map_times[side].append(out["map_s"])
                other_times[side].append(out["reduce_s"])
                results.add(json.dumps(out["result"], sort_keys=True))
                print(f"round {r + 1} {side:8s} ({out['manager'].rsplit('.', 1)[-1]}): {out['seconds']:7.1f} s  "
                      f"shuffle write {out['write'] / 1e9:.2f} GB, read {out['read'] / 1e9:.2f} GB  "
                      f"map stages {out['map_s']:.1f} s, others {out['reduce_s']:.1f} s  "
                      f"(session start {out['startup']:.1f} s) result {out['result']}", flush=True)
                if args.job == "groupby-join" and out["write"] < 2e9:
                    print(f"  note: under 2 GB shuffled; raise --rows")
    finally:
        servers.stop()
    if len(results) != 1:
        print(f"RESULTS DIFFER between runs: {sorted(results)}")
        return 1
    b = statistics.median(times["builtin"])
    print(f"{args.job}: median wall time: builtin {b:.1f} s over {len(times['builtin'])} runs")
    for side in sides:
        if side == "builtin":
            continue
        s = statistics.median(times[side])
        label = f"builtin(as {side})" if dry else side
        m = statistics.median(map_times[side]) / max(statistics.median(map_times["builtin"]), 1e-9)
        o = statistics.median(other_times[side]) / max(statistics.median(other_times["builtin"]), 1e-9)
        print(f"  {label}: {s:.1f} s; ratio {side}/builtin {s / b:.2f}; map stages {m:.2f}, other stages {o:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
