"""Jobs of the failure tests (spark-tests/test_failures.py), run by runner.py as `failure_jobs:NAME`.

The test process and a job meet through marker files in the directory $SLUICE_FAILURE_CTL (set in the runner's
environment, read on the driver and captured by the task closures): a task writes `NAME` files to say where it is and
waits for the test's `go` file before going on, so the test kills or signals a server at a known point. Every wait has
a deadline. Each job checks its result against the answer computed in plain Python and raises when they differ.

Settings per scenario come from $SLUICE_FAILURE_HOLD_S (a deliberate pause of the reduce tasks after `go`, to widen a
window) and $SLUICE_FAILURE_RECORDS.
"""
from __future__ import annotations

import os
import time

MAPS = 4
REDUCES = 8
KEYS = 211
WAIT_S = 150.0  # longest wait of a task or the driver for a marker of the test


def _ctl() -> str:
    return os.environ["SLUICE_FAILURE_CTL"]


def mark(ctl: str, name: str, text: str = "") -> None:
    tmp = os.path.join(ctl, f".{name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(ctl, name))


def wait_for(ctl: str, name: str, timeout_s: float = WAIT_S) -> None:
    path = os.path.join(ctl, name)
    end = time.monotonic() + timeout_s
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise TimeoutError(f"marker {name} did not appear in {ctl} within {timeout_s:.0f}s")
        time.sleep(0.05)


def _records() -> int:
    return int(os.environ.get("SLUICE_FAILURE_RECORDS", "24000"))


def _key(i: int) -> int:
    return (i * 7919) % KEYS


def _value(i: int) -> str:
    return "%d:%s" % (i, "v" * 300)  # ~300 bytes a record: a few MB over the shuffle


def expected(n: int) -> list:
    acc = {}
    for i in range(n):
        c, s = acc.get(_key(i), (0, 0))
        acc[_key(i)] = (c + 1, s + i)
    return sorted([k, c, s] for k, (c, s) in acc.items())


def _summarise(it):
    acc = {}
    for k, v in it:
        c, s = acc.get(k, (0, 0))
        acc[k] = (c + 1, s + int(v.split(":", 1)[0]))
    return [[k, c, s] for k, (c, s) in acc.items()]


def _shuffle(spark, ctl: str, pause_maps: bool, pause_reduces: bool, tag: str):
    """parallelize -> (key, value) -> partitionBy(REDUCES) -> per-key (count, sum). With `pause_maps`, every map task's
    first attempt writes `map-paused-<index>` after half its records and waits for `go`; with `pause_reduces`, every
    reduce task's first attempt writes `reduce-started-<index>` and waits for `go`, then holds $SLUICE_FAILURE_HOLD_S."""
    sc = spark.sparkContext
    n = _records()
    hold_s = float(os.environ.get("SLUICE_FAILURE_HOLD_S", "0"))
    per_map = n // MAPS

    def produce(index, it):
        from pyspark import TaskContext
        attempt = TaskContext.get().attemptNumber()
        for count, i in enumerate(it):
            if pause_maps and attempt == 0 and count == per_map // 2:
                mark(ctl, f"{tag}map-paused-{index}")
                wait_for(ctl, "go")
            yield (_key(i), _value(i))

    def consume(index, it):
        from pyspark import TaskContext
        if pause_reduces and TaskContext.get().attemptNumber() == 0 and not os.path.exists(os.path.join(ctl, "go")):
            mark(ctl, f"{tag}reduce-started-{index}")
            wait_for(ctl, "go")
            time.sleep(hold_s)  # the job's own delay: keeps the window open (see the tests)
        return iter(_summarise(it))

    return sc.parallelize(range(n), MAPS).mapPartitionsWithIndex(produce).partitionBy(REDUCES) \
             .mapPartitionsWithIndex(consume)


def _check(out, n: int, what: str) -> list:
    got = sorted(out)
    want = expected(n)
    if got != want:
        missing = [r for r in want if r not in got][:5]
        extra = [r for r in got if r not in want][:5]
        raise AssertionError(f"{what}: wrong result ({len(got)} keys, expected {len(want)}); "
                             f"missing {missing}, unexpected {extra}")
    return got


def _start(spark, ctl: str) -> None:
    mark(ctl, "app-id", spark.sparkContext.applicationId)
    spark.sparkContext.setJobGroup("failure", "failure scenario")


def after_map_stage(spark):
    """Reduce tasks block after the map stage has finished; the test kills something and writes `go`."""
    ctl = _ctl()
    _start(spark, ctl)
    out = _shuffle(spark, ctl, pause_maps=False, pause_reduces=True, tag="").collect()
    got = _check(out, _records(), "job after the failure")
    mark(ctl, "job-done")
    return {"keys": len(got), "records": sum(r[1] for r in got)}


def during_map_stage(spark):
    """Map tasks pause halfway (`map-paused-<index>`) until `go`; after the job the driver writes `job-done` and waits
    for `may-stop`, so the test can inspect the workers' files while the application is alive."""
    ctl = _ctl()
    _start(spark, ctl)
    out = _shuffle(spark, ctl, pause_maps=True, pause_reduces=False, tag="").collect()
    got = _check(out, _records(), "job after the failure")
    mark(ctl, "job-done")
    wait_for(ctl, "may-stop")
    return {"keys": len(got), "records": sum(r[1] for r in got)}


def plain_shuffle(spark):
    """One shuffle without pauses (the slowest-worker test): the map stage pushes, the result stage fetches."""
    ctl = _ctl()
    _start(spark, ctl)
    out = _shuffle(spark, ctl, pause_maps=False, pause_reduces=False, tag="").collect()
    got = _check(out, _records(), "plain shuffle")
    return {"keys": len(got), "records": sum(r[1] for r in got)}


def after_map_stage_then_new_job(spark):
    """after_map_stage, then a second job with a new shuffle (registered with whatever master runs now)."""
    first = after_map_stage(spark)
    ctl = _ctl()
    spark.sparkContext.setJobGroup("second", "job after the failure")
    sc = spark.sparkContext
    out = sc.parallelize(range(_records()), 3).map(lambda i: (_key(i), _value(i))).partitionBy(5) \
            .mapPartitions(lambda it: iter(_summarise(it))).collect()
    got = _check(out, _records(), "second job")
    mark(ctl, "second-done")
    return {"first": first, "second_keys": len(got)}


def live_application(spark):
    """Expiry test (both applications; the test kills one): shuffles, says `ready`, waits for `continue`, holds (its own
    delay, longer than the master's application timeout), reads the same shuffle again (map stage skipped: the data
    must still be on the workers), says `reread`, waits for `may-stop`."""
    ctl = _ctl()
    sc = spark.sparkContext
    mark(ctl, "app-id", sc.applicationId)
    sc.setJobGroup("first", "first read")
    n = _records()
    rdd = sc.parallelize(range(n), MAPS).map(lambda i: (_key(i), _value(i))).partitionBy(REDUCES) \
            .mapPartitions(lambda it: iter(_summarise(it)))
    _check(rdd.collect(), n, "first read")
    mark(ctl, "ready")
    wait_for(ctl, "continue")
    time.sleep(float(os.environ.get("SLUICE_FAILURE_HOLD_S", "0")))  # the job's own delay (see the test)
    sc.setJobGroup("reread", "second read of the same shuffle")
    got = _check(rdd.collect(), n, "second read of the same shuffle")
    mark(ctl, "reread")
    wait_for(ctl, "may-stop")
    return {"keys": len(got)}
