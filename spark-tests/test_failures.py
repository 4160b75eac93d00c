"""Failure survival on Spark 3.5.9 and on 4.0 to 4.2 (docs/operations.md, "What survives what"): executor loss,
worker loss (replicated, unreplicated, during the map stage), master restart, graceful worker shutdown, a rolling
restart of every worker, application expiry; task metrics compared with the builtin shuffle's; the driver log
naming a slowed worker as the slowest.

Each test gets its own Sluice servers (a master and three workers with short heartbeats) because it kills or signals
them, and runs one scenario job of failure_jobs.py in a SparkSession subprocess under a timeout. The job and the test
meet through marker files (the job blocks a stage until the test has done its damage and writes `go`). A test-only
SparkListener (listener/SluiceTestListener.java, compiled here against pyspark's jars) logs every task end and stage
completion, so the tests count task attempts per stage. The jar is added as harness.jar_via() says (extraClassPath on
3.5, spark.jars on 4.x). Run with a venv of scripts/spark-tests.sh:
    .cache/pyspark-3.5/bin/python -m pytest spark-tests/test_failures.py
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import harness
from conftest import BATCH_TIMEOUT, compile_java_jar, pyspark_version

pytestmark = pytest.mark.skipif(not pyspark_version().startswith(("3.5.", "4.")),
                                reason=f"needs pyspark 3.5.x or 4.x (this interpreter has {pyspark_version()})")

TIMEOUT = min(BATCH_TIMEOUT, 300.0)  # one scenario's Spark run
WAIT = 120.0                         # longest wait for a marker, a log line or a process state
MAPS, REDUCES = 4, 8                  # failure_jobs.MAPS, REDUCES

MASTER_ARGS = ["--worker-heartbeat-interval", "500ms", "--worker-heartbeat-timeout", "3s",
               "--application-check-interval", "500ms"]
WORKER_ARGS = ["--heartbeat-retry-interval", "200ms"]
BASE_CONF = {
    "spark.sluice.heartbeat.interval": "1s",
    "spark.sluice.push.bufferSize": "32k",
    "spark.sluice.push.mergedSize": "32k",  # pushes leave the map task early: the workers hold data mid-stage
    "spark.sluice.network.timeout": "30s",
}

# Mid-map-stage kills need pushed data before the pause: PySpark's partitionBy hands the JVM its records in growing
# chunks (the first ~1 MB of a map task can still be in Python when it pauses), so those map tasks write more.
MAP_STAGE_ENV = {"SLUICE_FAILURE_RECORDS": "100000"}


# ---------------------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def listener_jar():
    """SluiceTestListener compiled against the venv's pyspark jars, in a temporary jar."""
    with compile_java_jar("SluiceTestListener") as jar:
        yield jar


@pytest.fixture
def make_servers():
    """Starts this test's own servers (stopped on every exit path)."""
    bin_dir = harness.find_binaries()
    if bin_dir is None:
        pytest.fail("sluice-master/sluice-worker not found (run `swift build` first)", pytrace=False)
    started = []

    def make(master_args=(), grace_period="200ms", workers=3, worker_ids=False, worker_args_by_index=None):
        servers = harness.SluiceServers(bin_dir, workers=workers, master_args=[*MASTER_ARGS, *master_args],
                                        extra_worker_args=WORKER_ARGS, grace_period=grace_period,
                                        worker_ids=worker_ids, worker_args_by_index=worker_args_by_index)
        started.append(servers)
        return servers

    yield make
    for servers in started:
        servers.stop()


@pytest.fixture
def jar():
    found = harness.find_jar()
    if found is None:
        pytest.skip("Sluice Spark client jar not found (make spark-client)")
    return found


# ----------------------------------------------------------------------------------------------------------- helpers
def wait_until(condition, what: str, timeout_s: float = WAIT, on_timeout=lambda: "", poll_s: float = 0.1):
    """Polls `condition` until it returns a truthy value (returned) or `timeout_s` passes (the test fails)."""
    end = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}\n{on_timeout()}", pytrace=False)
        time.sleep(poll_s)


def app_files(storage_dir: Path, app_id: str) -> dict[str, int]:
    """Partition files of one application on one worker: relative path -> size. The worker may be deleting them
    while this looks: os.walk skips a directory that vanished (Path.rglob raised FileNotFoundError)."""
    root = Path(storage_dir) / app_id
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            if not name.endswith(".data"):
                continue
            f = Path(directory) / name
            try:
                files[str(f.relative_to(storage_dir))] = f.stat().st_size
            except FileNotFoundError:
                pass
    return files


def epoch_of(path: str) -> int:
    return int(Path(path).name.split("-")[1])  # <partition>-<epoch>-<p|r>.data


def log_count(child, text: str) -> int:
    try:
        return Path(child.stderr_path).read_text(errors="replace").count(text)
    except OSError:
        return 0


class Events:
    """The test listener's log: jobs (with their job group), task ends, stage completions."""

    def __init__(self, path: Path):
        self.items = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()] \
            if Path(path).exists() else []

    def stages(self, group: str) -> tuple[list[int], list[int]]:
        """(map stages, result stages) of the group's jobs: a job's result stage is its highest stage id."""
        maps, results = set(), set()
        for job in (e for e in self.items if e["ev"] == "job" and e["group"] == group):
            results.add(max(job["stages"]))
            maps.update(s for s in job["stages"] if s != max(job["stages"]))
        return sorted(maps), sorted(results)

    def tasks(self, stage: int) -> list[dict]:
        return [e for e in self.items if e["ev"] == "task" and e["stage"] == stage]

    def stage_attempts(self, stage: int) -> list[dict]:
        return [e for e in self.items if e["ev"] == "stage" and e["stage"] == stage]

    def describe(self, stages) -> str:
        lines = []
        for s in stages:
            for a in self.stage_attempts(s):
                lines.append(f"stage {s}.{a['attempt']} ({a['name']}, {a['tasks']} tasks): "
                             f"{'failed: ' + a['failure'][:300] if a['failure'] else 'ok'}")
            for t in self.tasks(s):
                lines.append(f"  task {s}.{t['stageAttempt']} index {t['index']} attempt {t['attempt']} "
                             f"on executor {t['executor']}: {t['reason'][:200]}")
        return "\n".join(lines)

    def ran_stages(self, group: str) -> list[int]:
        """Stages of the group that actually ran tasks (skipped stages have none)."""
        maps, results = self.stages(group)
        return [s for s in maps + results if self.tasks(s)]

    def assert_map_stage_ran_once(self, group: str, maps: int = MAPS):
        """Every map stage of the group: one stage attempt, each map task exactly once (attempt 0), all succeeded."""
        map_stages, _ = self.stages(group)
        ran = [s for s in map_stages if self.tasks(s)]
        assert ran, f"no map stage of job group {group!r} ran tasks:\n{self.describe(map_stages)}"
        for s in ran:
            tasks = self.tasks(s)
            attempts = sorted({a["attempt"] for a in self.stage_attempts(s)} | {t["stageAttempt"] for t in tasks})
            indexes = sorted(t["index"] for t in tasks)
            ok = attempts == [0] and indexes == list(range(maps)) and \
                all(t["attempt"] == 0 and t["reason"] == "Success" for t in tasks)
            assert ok, (f"map stage {s} did not run exactly once per map task (stage attempts {attempts}, "
                        f"task indexes {indexes}):\n{self.describe([s])}")

    def failed_tasks(self, stages) -> list[dict]:
        return [t for s in stages for t in self.tasks(s) if t["reason"] != "Success"]


class Scenario:
    """One Spark run of a failure_jobs job in the background, with its marker directory; the test waits for the
    job's markers, does its damage, releases the job and collects the report. Killed on every exit path."""

    def __init__(self, label, servers, jar, listener_jar, job, mode="local", conf=None, env=None):
        self.label, self.servers, self.mode = label, servers, mode
        self.ctl = Path(tempfile.mkdtemp(prefix=f"sluice-fail-{label}-"))
        self.events_path = self.ctl / "events.jsonl"
        conf = harness.spark_conf(mode, "sluice", jar, servers.master_address, {**BASE_CONF, **(conf or {})})
        harness.add_driver_classpath(conf, listener_jar)
        conf["spark.extraListeners"] = "SluiceTestListener"
        conf["spark.sluicetest.events"] = str(self.events_path)
        self.proc = None
        self.work_dir = None
        self._pool = concurrent.futures.ThreadPoolExecutor(1)
        self._future = self._pool.submit(
            harness.run_batch, sys.executable, mode, "sluice", [f"failure_jobs:{job}"], conf, TIMEOUT,
            label=label, env_extra={"SLUICE_FAILURE_CTL": str(self.ctl), **(env or {})}, on_start=self._started)

    def _started(self, proc, work_dir):
        self.proc, self.work_dir = proc, work_dir

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        end = time.monotonic() + 15
        while self.proc is None and not self._future.done() and time.monotonic() < end:
            time.sleep(0.05)  # the runner is being started: wait for its handle so it can be killed
        if self.proc is not None and self.proc.poll() is None:
            harness.kill_group(self.proc)
        try:
            self._future.result(60)
        except Exception:  # noqa: BLE001 - a killed or failed run; its outcome was reported already if it mattered
            pass
        self._pool.shutdown(wait=False)
        shutil.rmtree(self.ctl, ignore_errors=True)

    # -- markers
    def marker(self, name: str) -> str:
        return (self.ctl / name).read_text()

    def release(self, name: str = "go"):
        (self.ctl / name).write_text("")

    def context(self) -> str:
        """What a failure message needs: the run's state, its output and executors' logs, the servers' logs."""
        parts = [f"[{self.label}] runner exit code: {self.proc.poll() if self.proc else 'not started'}"]
        if self._future.done():
            try:
                report = self._future.result()
                for name, r in report["jobs"].items():
                    parts.append(f"job {name}: {'ok' if r['ok'] else 'FAILED'}\n{r.get('error', '')}")
                parts += [report.get("runner_tail", ""), report.get("executor_stderr", "")]
            except Exception as e:  # noqa: BLE001
                parts.append(str(e))
        elif self.work_dir is not None:
            parts.append("--- runner output tail ---\n" + harness.tail(Path(self.work_dir) / "runner.log", 30))
            parts.append(harness.executor_stderr_tails(self.work_dir))
        parts.append(self.servers.stderr_tails(15))
        return "\n".join(p for p in parts if p)

    def wait_markers(self, prefix: str, count: int = 1, timeout_s: float = WAIT) -> list[str]:
        def found():
            names = sorted(p.name for p in self.ctl.glob(prefix + "*"))
            if len(names) >= count:
                return names
            if self._future.done():
                pytest.fail(f"[{self.label}] the Spark run ended before {count} marker(s) {prefix}*:\n"
                            f"{self.context()}", pytrace=False)
            return None
        return wait_until(found, f"[{self.label}] {count} marker(s) {prefix}*", timeout_s, self.context)

    # -- outcome
    def finish(self) -> dict:
        """The job's result; fails the test with the job's error and every log tail when it failed."""
        try:
            report = self._future.result(TIMEOUT + 60)
        except Exception as e:  # noqa: BLE001 - harness errors carry the runner output
            pytest.fail(f"[{self.label}] Spark run failed: {e}\n{self.servers.stderr_tails(20)}", pytrace=False)
        (name, entry), = report["jobs"].items()
        if not entry["ok"]:
            pytest.fail(f"[{self.label}] job {name} failed:\n{entry['error']}\n--- runner output ---\n"
                        f"{report.get('runner_tail', '')}\n{report.get('executor_stderr', '')}\n"
                        f"{self.servers.stderr_tails(20)}\n--- listener events ---\n"
                        f"{Events(self.events_path).describe(range(0, 20))}", pytrace=False)
        print(f"\n[{self.label}] {report['seconds']:.1f}s (startup {report['startup_seconds']}s): {entry['result']}")
        return entry["result"]

    def events(self) -> Events:
        return Events(self.events_path)


def executor_pids(app_id: str) -> list[int]:
    """local-cluster executor JVMs of one application (CoarseGrainedExecutorBackend --app-id APP)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"org.apache.spark.executor.CoarseGrainedExecutorBackend" in args and app_id.encode() in args:
            pids.append(int(proc.name))
    return sorted(pids)


def java_children(pid: int) -> list[int]:
    """JVMs in the process group of `pid` (the driver JVM of a runner)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if os.getpgid(int(proc.name)) == pid and b"java" in (proc / "cmdline").read_bytes().split(b"\0")[0]:
                    found.append(int(proc.name))
            except (OSError, ProcessLookupError):
                pass
    return found


def process_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie is dead
    except FileNotFoundError:
        return True


def holding(servers, worker: int, app_id: str, what: str) -> dict[str, int]:
    """Waits until `worker` holds partition files of `app_id` (so killing it loses data) and returns them."""
    return wait_until(lambda: app_files(servers.storage_dirs[worker], app_id),
                      f"{what}: worker {worker} holds files of {app_id}", 30, servers.stderr_tails)


def victim(servers, app_id: str, what: str) -> tuple[int, dict[str, int]]:
    """Mid-map-stage: which batches have reached the workers is up to timing; waits until some worker holds files of
    `app_id` and returns it (the one holding most) with its files."""
    def pick():
        held = {w: app_files(d, app_id) for w, d in enumerate(servers.storage_dirs)}
        best = max(held, key=lambda w: len(held[w]))
        return (best, held[best]) if held[best] else None
    return wait_until(pick, f"{what}: a worker to hold files of {app_id}", 30, servers.stderr_tails)


# ------------------------------------------------------------------------------------------------------------- tests
def test_executor_loss_after_map_stage(make_servers, jar, listener_jar):
    """kill -9 an executor JVM while the reduce stage runs (local-cluster): the job is correct, no map task reruns."""
    servers = make_servers()
    with Scenario("executor-loss", servers, jar, listener_jar, "after_map_stage", mode="cluster") as run:
        run.wait_markers("reduce-started-", count=2)  # both executors (1 core each) are in the reduce stage
        app_id = run.marker("app-id")
        pids = executor_pids(app_id)
        assert len(pids) == 2, f"expected 2 executor JVMs of {app_id}, found {pids}\n{run.context()}"
        os.kill(pids[0], signal.SIGKILL)
        wait_until(lambda: process_gone(pids[0]), f"executor JVM {pids[0]} to die", 30)
        run.release("go")
        result = run.finish()
        events = run.events()
    assert result["keys"] > 0
    events.assert_map_stage_ran_once("failure")
    _, results = events.stages("failure")
    lost = [t for t in events.failed_tasks(results) if "ExecutorLost" in t["reason"]]
    assert lost, "no reduce task was lost with the killed executor (the kill did not hit the job):\n" + \
        events.describe(results)


def test_worker_loss_after_map_stage_replicated(make_servers, jar, listener_jar):
    """kill -9 a worker after the map stage (replication on): reducers read the replicas; no map task reruns."""
    servers = make_servers()
    with Scenario("worker-loss-replicated", servers, jar, listener_jar, "after_map_stage") as run:
        run.wait_markers("reduce-started-", count=2)
        app_id = run.marker("app-id")
        held = holding(servers, 0, app_id, "before the kill")
        servers.worker(0).proc.kill()
        servers.worker(0).proc.wait(10)
        run.release("go")
        result = run.finish()
        events = run.events()
    assert result["keys"] > 0 and held
    events.assert_map_stage_ran_once("failure")
    maps, results = events.stages("failure")
    failed = events.failed_tasks(maps + results)
    assert not failed, "reading from the replicas should be invisible to Spark:\n" + events.describe(maps + results)


def test_worker_loss_during_map_stage(make_servers, jar, listener_jar):
    """kill -9 a worker while map tasks push: pushes to it revive to new epochs on live workers; results correct."""
    servers = make_servers()
    with Scenario("worker-loss-map-stage", servers, jar, listener_jar, "during_map_stage", env=MAP_STAGE_ENV) as run:
        run.wait_markers("map-paused-", count=2)  # local[2]: two map tasks are halfway through their output
        app_id = run.marker("app-id")
        dead, _ = victim(servers, app_id, "before the kill")
        servers.worker(dead).proc.kill()
        servers.worker(dead).proc.wait(10)
        run.release("go")
        run.wait_markers("job-done")
        revived = {w: [f for f in app_files(d, app_id) if epoch_of(f) > 0]
                   for w, d in enumerate(servers.storage_dirs) if w != dead}
        run.release("may-stop")
        result = run.finish()
        events = run.events()
    assert result["keys"] > 0
    assert any(revived.values()), \
        f"no partition was revived to a new epoch on the live workers: {revived}\n{servers.stderr_tails(10)}"
    maps, results = events.stages("failure")
    assert not any(a["failure"] for s in maps + results for a in events.stage_attempts(s)), events.describe(maps + results)


def test_worker_loss_unreplicated_reruns_map_stage(make_servers, jar, listener_jar):
    """kill -9 a worker after the map stage with spark.sluice.replicate=false: FetchFailedException, Spark reruns the
    map stage (more than one attempt), results correct."""
    servers = make_servers()
    with Scenario("worker-loss-unreplicated", servers, jar, listener_jar, "after_map_stage",
                  conf={"spark.sluice.replicate": "false"}) as run:
        run.wait_markers("reduce-started-", count=2)
        app_id = run.marker("app-id")
        held = holding(servers, 0, app_id, "before the kill")
        assert all(f.endswith("-p.data") for f in held), f"replicate=false, yet replica files: {held}"
        servers.worker(0).proc.kill()
        servers.worker(0).proc.wait(10)
        run.release("go")
        result = run.finish()
        events = run.events()
    assert result["keys"] > 0
    maps, results = events.stages("failure")
    attempts = {s: sorted({a["attempt"] for a in events.stage_attempts(s)}) for s in maps}
    assert any(len(a) > 1 for a in attempts.values()), \
        f"the map stage did not run again (attempts {attempts}):\n{events.describe(maps + results)}"
    fetch_failed = [t for t in events.failed_tasks(results) if "FetchFailed" in t["reason"]]
    assert fetch_failed, "no reduce task failed with a FetchFailed:\n" + events.describe(results)


def test_master_restart_mid_job(make_servers, jar, listener_jar):
    """kill -9 and restart the master (same port) while the reduce stage waits: workers re-register with what they
    hold, the job finishes correctly, a new job runs afterwards. The master's application timeout (4 s) is shorter
    than the time the job keeps running after the restart, so the driver's heartbeat thread must survive the downtime
    or the application's shuffles would be deleted."""
    servers = make_servers(master_args=["--application-timeout", "4s"])
    with Scenario("master-restart", servers, jar, listener_jar, "after_map_stage_then_new_job",
                  env={"SLUICE_FAILURE_HOLD_S": "6"}) as run:
        run.wait_markers("reduce-started-", count=2)
        before = [log_count(servers.worker(i), "registered with master") for i in range(3)]
        servers.restart_master()
        wait_until(lambda: all(log_count(servers.worker(i), "registered with master") > before[i] for i in range(3)),
                   "every worker to register with the restarted master", 30, servers.stderr_tails)
        regs = Path(servers.master.stderr_path).read_text(errors="replace")
        held_counts = [int(m) for m in re.findall(r"held\.count=(\d+)", regs)]
        assert len(held_counts) >= 3 and all(n > 0 for n in held_counts[:3]), \
            f"workers did not report what they hold to the new master: {held_counts}\n{servers.stderr_tails(10)}"
        run.release("go")
        result = run.finish()
        events = run.events()
    assert result["first"]["keys"] > 0 and result["second_keys"] > 0
    expired = log_count(servers.master, "application expired")
    assert expired == 0, f"the restarted master expired an application (driver heartbeats stopped?):\n" \
        f"{servers.stderr_tails(20)}"
    events.assert_map_stage_ran_once("failure")
    events.assert_map_stage_ran_once("second", maps=3)


def test_graceful_worker_shutdown(make_servers, jar, listener_jar):
    """SIGTERM a worker mid-map-stage (replication off, so what it holds exists nowhere else): its pushes move to other
    workers, reads of what it holds are served, the job sees no failure, and the worker exits 0 once the
    application's shuffles are gone (well within its 120 s grace period)."""
    servers = make_servers(grace_period="120s")
    with Scenario("sigterm", servers, jar, listener_jar, "during_map_stage", env=MAP_STAGE_ENV,
                  conf={"spark.sluice.replicate": "false"}) as run:
        run.wait_markers("map-paused-", count=2)
        app_id = run.marker("app-id")
        drained, held = victim(servers, app_id, "before SIGTERM")
        worker = servers.worker(drained)
        worker.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: log_count(worker, "worker draining"), "the worker to log 'worker draining'", 30,
                   servers.stderr_tails)
        run.release("go")
        run.wait_markers("job-done")
        revived = {w: [f for f in app_files(d, app_id) if epoch_of(f) > 0]
                   for w, d in enumerate(servers.storage_dirs) if w != drained}
        still_held = app_files(servers.storage_dirs[drained], app_id)
        running_during_job = worker.proc.poll() is None
        run.release("may-stop")
        result = run.finish()
        events = run.events()
    assert result["keys"] > 0
    assert running_during_job, f"the draining worker exited while its data was needed:\n{servers.stderr_tails(20)}"
    assert set(held) <= set(still_held), f"the draining worker lost files: {sorted(set(held) - set(still_held))}"
    assert not [f for f in still_held if epoch_of(f) > 0], f"the draining worker took new epochs: {still_held}"
    assert any(revived.values()), f"no push moved to another worker: {revived}\n{servers.stderr_tails(10)}"
    maps, results = events.stages("failure")
    stage_failures = [a for s in maps + results for a in events.stage_attempts(s) if a["failure"] or a["attempt"]]
    assert not stage_failures and not events.failed_tasks(maps + results), \
        "the job saw a failure:\n" + events.describe(maps + results)
    wait_until(lambda: worker.proc.poll() is not None, "the draining worker to exit after the application ended",
               60, servers.stderr_tails)
    assert worker.proc.returncode == 0, f"worker exit code {worker.proc.returncode}\n{servers.stderr_tails(20)}"
    assert log_count(worker, "no shuffle data left"), f"the worker did not drain to empty:\n{servers.stderr_tails(20)}"


ROLLING_GRACE_S = 5     # worker.shutdownGracePeriod of the rolling restart: each worker holds data of the job
TERMINATION_GRACE_S = ROLLING_GRACE_S + 10  # a StatefulSet's terminationGracePeriodSeconds: SIGKILL after it


def registrations(child) -> list[int]:
    """held.count of each "registered with master" line of a worker's log."""
    try:
        text = Path(child.stderr_path).read_text(errors="replace")
    except OSError:
        return []
    return [int(m.group(1)) for line in text.splitlines() if "registered with master" in line
            for m in [re.search(r"held\.count=(\d+)", line)] if m]


def roll(servers, app_id: str, during_map_stage: bool) -> list[dict]:
    """Restarts worker 0, 1, 2 in turn as a StatefulSet does: SIGTERM, wait for the exit (it must drain until the grace
    period ends and exit 0 by itself before the termination grace period), start it again with the same flags and
    directories, and go on once the master lists it live at its new port. Returns what each restart saw."""
    listed = lambda: {w["workerId"]: w for w in servers.master_workers()}  # noqa: E731
    restarted = []
    for i in range(3):
        worker_id = f"sluice-worker-{i}"
        # Between the stages every worker holds data of the job (8 partitions x 2 copies on 3 workers); mid-map-stage
        # one may hold none yet.
        held = app_files(servers.storage_dirs[i], app_id) if during_map_stage else \
            holding(servers, i, app_id, f"before restarting {worker_id}")
        old = servers.worker(i)
        old_pid, old_port = old.proc.pid, listed()[worker_id]["port"]
        old.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: log_count(old, "worker draining"), f"{worker_id} to log 'worker draining'", 30,
                   servers.stderr_tails)
        try:
            code = old.proc.wait(TERMINATION_GRACE_S)
        except subprocess.TimeoutExpired:
            old.proc.kill()  # what the kubelet does after terminationGracePeriodSeconds
            old.proc.wait(10)
            pytest.fail(f"{worker_id} was still draining {TERMINATION_GRACE_S}s after SIGTERM (grace period "
                        f"{ROLLING_GRACE_S}s):\n{servers.stderr_tails(20)}", pytrace=False)
        assert code == 0, f"{worker_id} exit code {code} after its drain:\n{servers.stderr_tails(20)}"
        assert not held or log_count(old, "grace period over"), \
            f"{worker_id} held data of the running job, yet its drain ended before the grace period:\n" \
            f"{servers.stderr_tails(20)}"
        kept = app_files(servers.storage_dirs[i], app_id)
        assert set(held) <= set(kept), f"{worker_id} lost files in its drain: {sorted(set(held) - set(kept))}"
        servers.restart_worker(i)
        new = servers.worker(i)
        new_port = int(servers.worker_addresses[i].rsplit(":", 1)[1])
        wait_until(lambda: registrations(new) and listed().get(worker_id, {}).get("state") == "live"
                   and listed()[worker_id]["port"] == new_port,
                   f"the master to list the restarted {worker_id} live at its new port", 30, servers.stderr_tails)
        restarted.append({"id": worker_id, "old_pid": old_pid, "new_pid": new.proc.pid, "old_port": old_port,
                          "new_port": new_port, "held": len(held), "recovered": registrations(new)[0]})
    return restarted


@pytest.mark.parametrize("phase", ["between_stages", "map_stage"])
def test_rolling_restart(make_servers, jar, listener_jar, phase):
    """A rolling restart as a StatefulSet does it (issue #15): three workers with stable ids (--worker-id), replication
    on, a 5 s grace period; worker 0, 1, 2 in turn get SIGTERM, drain, exit 0 on their own and are started again with
    the same id, flags and storage directory (`roll`), the next one only once the master lists the previous one live.
    `between_stages`: the map stage is done and two reduce tasks wait; every worker holds data of the job, so each
    drain lasts the grace period, and the restarted worker registers with every file it held. `map_stage`: two map
    tasks are paused halfway through their output; after the roll they push on to workers whose addresses changed,
    so they revive to new epochs (checked). Either way the job's result is right (checked against a plain-Python
    answer), the ids are the same before and after, every map task ran exactly once, and no task or stage attempt
    failed."""
    servers = make_servers(grace_period=f"{ROLLING_GRACE_S}s", worker_ids=True)
    in_map_stage = phase == "map_stage"
    job, env, pause = ("during_map_stage", MAP_STAGE_ENV, "map-paused-") if in_map_stage else \
        ("after_map_stage", None, "reduce-started-")
    ids = lambda: sorted(w["workerId"] for w in servers.master_workers())  # noqa: E731
    with Scenario(f"rolling-{phase}", servers, jar, listener_jar, job, env=env) as run:
        run.wait_markers(pause, count=2)
        app_id = run.marker("app-id")
        before_ids = ids()
        restarted = roll(servers, app_id, in_map_stage)
        after_ids = ids()
        run.release("go")
        revived = []
        if in_map_stage:
            run.wait_markers("job-done")
            revived = [f for d in servers.storage_dirs for f in app_files(d, app_id) if epoch_of(f) > 0]
            run.release("may-stop")
        result = run.finish()
        events = run.events()
    print(f"\nrolling restart ({phase}): {restarted}")
    assert result["keys"] > 0
    assert before_ids == after_ids == [f"sluice-worker-{i}" for i in range(3)], \
        f"the workers did not come back with their ids: {before_ids} -> {after_ids}"
    for r in restarted:
        assert r["new_pid"] != r["old_pid"], f"{r['id']} was not restarted: {r}"
        assert r["recovered"] >= r["held"], \
            f"{r['id']} registered with fewer partition files than it held before its restart: {r}"
    assert in_map_stage or all(r["held"] for r in restarted), f"a worker held no data of the job: {restarted}"
    assert not in_map_stage or revived, \
        f"the paused map tasks did not revive after the roll (no push after it?)\n{servers.stderr_tails(10)}"
    events.assert_map_stage_ran_once("failure")
    maps, results = events.stages("failure")
    stage_failures = [a for s in maps + results for a in events.stage_attempts(s) if a["failure"] or a["attempt"]]
    assert not stage_failures and not events.failed_tasks(maps + results), \
        "the rolling restart was visible to Spark:\n" + events.describe(maps + results)


def assert_kept(before: dict, now: dict, when: str):
    """The same files on every worker, none shorter: sizes may only grow, since a worker writes a quiet file's
    buffered batches out (worker.idleFlushTime) whenever that happens to fall."""
    assert {w: set(f) for w, f in now.items()} == {w: set(f) for w, f in before.items()} and all(
        now[w][name] >= size for w, held in before.items() for name, size in held.items()), \
        f"the live application's files changed {when}: {before} -> {now}"


def test_application_expiry(make_servers, jar, listener_jar):
    """Two applications shuffle; one driver is killed with -9. After the master's application timeout (3 s) its files
    are deleted on every worker; the live application's files stay, and it reads its shuffle again correctly after
    waiting longer than the timeout."""
    servers = make_servers(master_args=["--application-timeout", "3s"])
    with Scenario("expiry-killed", servers, jar, listener_jar, "live_application") as doomed, \
            Scenario("expiry-live", servers, jar, listener_jar, "live_application",
                     env={"SLUICE_FAILURE_HOLD_S": "5"}) as live:
        doomed.wait_markers("ready")
        live.wait_markers("ready")
        doomed_id, live_id = doomed.marker("app-id"), live.marker("app-id")
        files = lambda app: {w: app_files(d, app) for w, d in enumerate(servers.storage_dirs)}  # noqa: E731
        doomed_files, live_files = files(doomed_id), files(live_id)
        assert sum(map(len, doomed_files.values())) and sum(map(len, live_files.values())), \
            f"both applications should hold files: {doomed_files} {live_files}"
        jvms = java_children(doomed.proc.pid)
        assert jvms, f"no driver JVM found in the process group of {doomed.proc.pid}"
        os.killpg(doomed.proc.pid, signal.SIGKILL)  # the driver JVM and its Python, with -9
        wait_until(lambda: all(process_gone(p) for p in jvms), "the killed driver JVM to die", 30)
        wait_until(lambda: not any(files(doomed_id).values()), f"the files of the dead application {doomed_id} to be "
                   f"deleted", 30, lambda: f"{files(doomed_id)}\n{servers.stderr_tails(10)}")
        assert log_count(servers.master, "application expired"), servers.stderr_tails(10)
        assert_kept(live_files, files(live_id), "when the dead one expired")
        live.release("continue")
        live.wait_markers("reread")
        assert_kept(live_files, files(live_id), "while it held them")
        live.release("may-stop")
        live.finish()
        events = live.events()
    maps, results = events.stages("reread")
    assert not [s for s in maps if events.tasks(s)], \
        "the live application's map stage ran again (its shuffle files were lost):\n" + events.describe(maps + results)
    assert not events.failed_tasks(results), events.describe(results)


# ------------------------------------------------------------------------------------------------------- task metrics
METRIC_JOBS = ["rdd_group_by_key", "rdd_repartition"]  # no map-side combine: record counts are the same either way


def test_task_metrics_are_reported_as_with_the_builtin_shuffle(make_servers, jar, listener_jar):
    """Spark's task metrics (what its UI and event log show) for Sluice shuffles: records written and read equal the
    builtin shuffle's on the same jobs, and bytes and write time are reported (non-zero)."""
    servers = make_servers(workers=2)
    totals = {}
    for side in ("builtin", "sluice"):
        events = Path(tempfile.mkdtemp(prefix=f"sluice-metrics-{side}-")) / "events.jsonl"
        conf = harness.spark_conf("cluster", side, jar, servers.master_address, BASE_CONF)
        harness.add_driver_classpath(conf, listener_jar)
        conf["spark.extraListeners"] = "SluiceTestListener"
        conf["spark.sluicetest.events"] = str(events)
        report = harness.run_batch(sys.executable, "cluster", side, METRIC_JOBS, conf, TIMEOUT,
                                   label=f"metrics-{side}")
        failed = {n: r["error"] for n, r in report["jobs"].items() if not r["ok"]}
        assert not failed, f"{side}: {failed}\n{report.get('runner_tail', '')}"
        tasks = [e for e in Events(events).items if e["ev"] == "task" and e["reason"] == "Success"]
        totals[side] = {key: sum(t.get(key, 0) for t in tasks)
                        for key in ("writeBytes", "writeRecords", "writeTimeNs", "readBytes", "readRecords")}
        shutil.rmtree(events.parent, ignore_errors=True)
    builtin, sluice = totals["builtin"], totals["sluice"]
    print(f"\ntask metrics: builtin {builtin}\n              sluice  {sluice}")
    assert builtin["writeRecords"] > 0 and builtin["readRecords"] > 0, builtin
    assert sluice["writeRecords"] == builtin["writeRecords"], (builtin, sluice)
    assert sluice["readRecords"] == builtin["readRecords"], (builtin, sluice)
    assert sluice["writeBytes"] > 0 and sluice["readBytes"] > 0 and sluice["writeTimeNs"] > 0, sluice


SLOW_PUSH_DELAY = "150ms"  # worker.testPushDelay of the slow worker: every push it answers waits this long
DRIVER_LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.console.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1}: %m%n
appender.sluice.type = File
appender.sluice.name = sluice
appender.sluice.fileName = {path}
appender.sluice.layout.type = PatternLayout
appender.sluice.layout.pattern = %p %c{1}: %m%n
logger.slowest.name = org.apache.spark.shuffle.sluice.SlowestWorkerListener
logger.slowest.level = debug
logger.slowest.additivity = false
logger.slowest.appenderRef.sluice.ref = sluice
"""


def test_driver_log_names_the_slowest_worker(make_servers, jar, listener_jar, tmp_path):
    """Three workers, one answering every push 150 ms late (worker.testPushDelay), no replication (a slow replica
    would slow its primaries too): the driver log's push line for the shuffle names that worker as the slowest, the
    debug table lists all three, and the reading stage's fetch line names one of the workers. local-cluster mode, so
    the figures cross from executor JVMs to the driver in the accumulator."""
    servers = make_servers(worker_args_by_index={2: ["--test-push-delay", SLOW_PUSH_DELAY]})
    slow = servers.worker_addresses[2]
    driver_log = tmp_path / "sluice-driver.log"
    log4j = tmp_path / "log4j2.properties"
    log4j.write_text(DRIVER_LOG4J.replace("{path}", str(driver_log)))
    conf = {"spark.sluice.replicate": "false",
            "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{log4j}"}
    with Scenario("slowest-worker", servers, jar, listener_jar, "plain_shuffle", mode="cluster", conf=conf) as run:
        result = run.finish()
    assert result["keys"] > 0
    text = driver_log.read_text() if driver_log.exists() else "(no driver log file)"
    push = re.findall(r"INFO SlowestWorkerListener: (Sluice shuffle \d+ push: slowest worker (\S+) .*)", text)
    fetch = re.findall(r"INFO SlowestWorkerListener: (Sluice shuffle \d+ fetch: slowest worker (\S+) .*)", text)
    tables = re.findall(r"DEBUG SlowestWorkerListener: (Sluice shuffle \d+ push per worker: .*)", text)
    print(f"\n[slowest-worker] slow worker {slow}\n{text}")
    assert len(push) == 1, f"expected one push line:\n{text}"
    assert push[0][1] == slow, f"the slow worker is {slow}, the log names {push[0][1]}:\n{text}"
    assert "median of 2 others" in push[0][0], text
    assert len(fetch) == 1 and fetch[0][1] in servers.worker_addresses, f"expected one fetch line:\n{text}"
    assert len(tables) == 1 and all(address in tables[0] for address in servers.worker_addresses), text
