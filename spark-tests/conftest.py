"""Fixtures for the Spark tests: Sluice servers (master + 2 workers), the client jar, and builtin-vs-Sluice batch runs.

A SparkSession costs 7-15 s and a Python process can hold only one SparkContext, so each (mode, shuffle) side runs its
whole list of jobs in one subprocess (runner.py, under a timeout); tests compare the two JSON reports job by job.

Environment:
  SLUICE_BIN_DIR        directory with sluice-master / sluice-worker (default <repo>/.build/debug)
  SLUICE_SPARK_JAR      client jar (default: the Spark line's jar in <repo>/clients/spark/build/)
  SLUICE_SPARK_DRY_RUN  =1: the "sluice" side runs Spark's builtin shuffle too (harness self-test, no jar needed)
  SLUICE_SPARK_BATCH_TIMEOUT  seconds per batch subprocess (default 900: suites run two at a time)
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

DRY_RUN = os.environ.get("SLUICE_SPARK_DRY_RUN") == "1"
BATCH_TIMEOUT = float(os.environ.get("SLUICE_SPARK_BATCH_TIMEOUT", "900"))
# Run the builtin and the Sluice batch of a comparison at the same time (two SparkContexts, two processes).
PARALLEL = os.environ.get("SLUICE_SPARK_PARALLEL", "1") == "1"
BUILTIN_MANAGER = "org.apache.spark.shuffle.sort.SortShuffleManager"
# The job set (jobs.py) run in full on Spark 3.5 and on the newest 4.x line; other 4.x lines run a smoke set of it.
JOB_SET = [
    "rdd_reduce_by_key", "rdd_group_by_key", "rdd_join", "rdd_sort_by_key", "rdd_repartition", "rdd_cogroup",
    "df_group_by_agg", "df_join", "df_window", "df_distinct", "df_order_by",
    "aqe_coalesce", "aqe_skew_join", "aqe_local_shuffle_reader",
    "one_partition", "many_partitions", "empty_partitions", "big_records",
    "retry_rdd_map_failure", "retry_df_map_failure",
]
# The newest Spark line on PyPI, which runs the full job set like 3.5.
NEWEST_SPARK_LINE = "4.3"


def pyspark_version() -> str:
    try:
        import pyspark
        return pyspark.__version__
    except ImportError:
        return "none"


@pytest.fixture(scope="session")
def sluice_jar():
    """The client jar; Sluice comparisons skip (with the reason) when it is not built, unless this is a dry run."""
    jar = harness.find_jar()
    if jar is None and not DRY_RUN:
        pytest.skip("Sluice Spark client jar not found: build clients/spark/build/sluice-spark-*.jar "
                    "or set SLUICE_SPARK_JAR (SLUICE_SPARK_DRY_RUN=1 runs the harness builtin-vs-builtin)")
    return jar


@pytest.fixture(scope="session")
def sluice_servers():
    """One sluice-master (port 0) and two sluice-workers on 127.0.0.1 for the whole session."""
    bin_dir = harness.find_binaries()
    if bin_dir is None:
        pytest.fail("sluice-master/sluice-worker not found in .build/debug, .build/release or $SLUICE_BIN_DIR "
                    "(run `swift build` first)", pytrace=False)
    servers = harness.SluiceServers(bin_dir, workers=2)
    yield servers
    codes = servers.stop()
    print(f"\nSluice servers stopped: {codes}")


@contextlib.contextmanager
def compile_java_jar(source_name: str):
    """spark-tests/listener/<source_name>.java compiled against this interpreter's pyspark jars, in a temporary jar
    (yields its path; removed afterwards)."""
    import shutil
    import subprocess
    import tempfile
    import pyspark
    jars = Path(pyspark.__file__).resolve().parent / "jars"
    out = Path(tempfile.mkdtemp(prefix=f"sluice-{source_name}-"))
    try:
        source = Path(__file__).resolve().parent / "listener" / f"{source_name}.java"
        jar = out / f"{source_name}.jar"
        for argv in (["javac", "-nowarn", "-d", str(out / "classes"), "-cp", f"{jars}/*", str(source)],
                     ["jar", "cf", str(jar), "-C", str(out / "classes"), "."]):
            done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                pytest.fail(f"{argv[0]} failed for {source_name}:\n{done.stdout}\n{done.stderr}", pytrace=False)
        yield jar
    finally:
        shutil.rmtree(out, ignore_errors=True)


def check_links(jar) -> None:
    """Fails unless every class, field and method the client jar references statically exists in this interpreter's
    Spark jars (clients/spark/tools/LinkCheck.java; calls made by reflection run in the jobs instead)."""
    if DRY_RUN:
        pytest.skip("dry run: no jar")
    import subprocess
    import pyspark
    jars = Path(pyspark.__file__).resolve().parent / "jars"
    tool = harness.REPO / "clients/spark/tools/LinkCheck.java"
    done = subprocess.run(["java", str(tool), str(jar), str(jars)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    print(done.stdout.strip())


class Comparison:
    """Runs one batch of jobs with the builtin shuffle and with Sluice (same mode, same settings), once, lazily."""

    def __init__(self, label, mode, jobs, servers, jar, extra_conf=None, master=None, log_dirs=(), parallel=None,
                 via=None):
        self.label, self.mode, self.jobs, self.log_dirs, self.via = label, mode, list(jobs), tuple(log_dirs), via
        self.parallel = PARALLEL if parallel is None else parallel
        self.servers, self.jar, self.extra, self.master = servers, jar, dict(extra_conf or {}), master
        self._reports = None
        self._error = None  # a batch that failed (timed out, crashed) fails every test of it without running again

    def reports(self):
        if self._error is not None:
            pytest.fail(f"[{self.label}] the batch failed earlier in this session (not run again):\n{self._error}",
                        pytrace=False)
        if self._reports is None:
            def run(side):
                shuffle = "builtin" if side == "builtin" or DRY_RUN else "sluice"
                conf = harness.spark_conf(self.mode, shuffle, self.jar, self.servers.master_address, self.extra,
                                          via=self.via)
                return harness.run_batch(sys.executable, self.mode, shuffle, self.jobs, conf, BATCH_TIMEOUT,
                                         label=f"{self.label}-{side}", master=self.master, log_dirs=self.log_dirs)

            sides = ("builtin", "sluice")
            try:
                if self.parallel:
                    with concurrent.futures.ThreadPoolExecutor(2) as pool:
                        futures = {side: pool.submit(run, side) for side in sides}
                        reports = {side: f.result() for side, f in futures.items()}
                else:
                    reports = {side: run(side) for side in sides}
            except harness.HarnessError as e:
                self._error = str(e)[:4000]
                raise
            for side in sides:
                print(f"\n[{self.label}] {side}: {reports[side]['seconds']:.1f}s "
                      f"(startup {reports[side]['startup_seconds']}s) "
                      + " ".join(f"{n}={r['seconds']}s" for n, r in reports[side]["jobs"].items()))
            self._reports = reports
        return self._reports

    def check_manager(self):
        r = self.reports()
        assert r["builtin"]["shuffle_manager"] == BUILTIN_MANAGER, r["builtin"]["shuffle_manager"]
        expected = BUILTIN_MANAGER if DRY_RUN else harness.SLUICE_MANAGER
        assert r["sluice"]["shuffle_manager"] == expected, \
            f"the Sluice side ran with {r['sluice']['shuffle_manager']}, expected {expected}"

    def check(self, job):
        r = self.reports()
        for side in ("builtin", "sluice"):
            entry = r[side]["jobs"][job]
            if not entry["ok"]:
                extra = ""
                if side == "sluice":
                    self.servers.check_alive()
                    extra = "\n" + self.servers.stderr_tails(15)
                pytest.fail(f"[{self.label}] {job} failed on the {side} side:\n{entry['error']}\n"
                            f"--- runner output ---\n{r[side].get('runner_tail', '')}\n"
                            f"{r[side].get('executor_stderr', '')}{extra}", pytrace=False)
        b, s = r["builtin"]["jobs"][job]["result"], r["sluice"]["jobs"][job]["result"]
        assert b is not None
        if s != b:
            pytest.fail(f"[{self.label}] {job}: results differ between builtin and Sluice shuffle\n"
                        f"{describe_difference(b, s)}", pytrace=False)


def describe_difference(b, s, path="result", limit=6) -> str:
    out = []

    def walk(x, y, p):
        if len(out) >= limit:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                if k not in x or k not in y:
                    out.append(f"{p}.{k}: only on the {'builtin' if k in x else 'sluice'} side")
                else:
                    walk(x[k], y[k], f"{p}.{k}")
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (a, c) in enumerate(zip(x, y)):
                walk(a, c, f"{p}[{i}]")
        elif x != y:
            out.append(f"{p}: builtin={json.dumps(x)[:300]} sluice={json.dumps(y)[:300]}")

    walk(b, s, path)
    return "\n".join(out) or "(no difference found)"
